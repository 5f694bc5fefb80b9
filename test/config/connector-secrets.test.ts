/**
 * Connector secrets (sap-s4 password, erpnext API key and secret, qms API key, notify webhook
 * URL) come from an environment variable or a file, read through buildRuntime's `env`, never
 * the process environment behind its back. The secrets reach real simulators over sockets, which
 * refuse wrong credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ErpNextSim, ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import { startErpNext, startErpS4, startQms } from '../../simulators/index.ts'
import { type Receiver, startReceiver } from '../../simulators/shared/test-support.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type FieldProblem, isQualinkError } from '../../src/contracts/errors.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import type { NotifyPort } from '../../src/workflows/ports/notify.ts'
import type { QmsPort } from '../../src/workflows/ports/qms.ts'
import { type Doc, problemsOf, TempDir } from './fixture.ts'

let tmp: TempDir
let s4: ErpS4Sim
let erpnext: ErpNextSim
let qms: QmsSim
let chat: Receiver

beforeAll(async () => {
  ;[s4, erpnext, qms, chat] = await Promise.all([
    startErpS4({ port: 0 }),
    startErpNext({
      port: 0,
      apiKey: 'file-key',
      apiSecret: 'env-secret',
      warehouses: { Stores: 'unrestricted', QI: 'qi', Quarantine: 'blocked' },
    }),
    startQms({ port: 0, apiKey: 'qms-from-file' }),
    startReceiver(),
  ])
  tmp = new TempDir()
  tmp.write('sap-password', 'sim\n')
  tmp.write('erpnext-key', 'file-key\n')
  tmp.write('qms-key', 'qms-from-file')
  tmp.write('chat-url', `${chat.url}\n`)
})
afterAll(async () => {
  tmp?.remove()
  await Promise.all([s4?.close(), erpnext?.close(), qms?.close(), chat?.close()])
})

function doc(): Doc {
  return {
    version: 1,
    connectors: {
      sap: {
        kind: 'erp/sap-s4',
        config: { baseUrl: s4.url, auth: { username: 'RFC_QLK', passwordFile: 'sap-password' } },
      },
      erpnext: {
        kind: 'erp/erpnext',
        config: {
          baseUrl: erpnext.url,
          apiKeyFile: 'erpnext-key',
          apiSecretEnv: 'ERPNEXT_SECRET',
          warehouses: { unrestricted: 'Stores', qualityInspection: 'QI', blocked: 'Quarantine' },
        },
      },
      qms: { kind: 'qms/rest', config: { baseUrl: qms.url, apiKeyFile: 'qms-key' } },
      chat: { kind: 'notify/webhook', config: { urlFile: 'chat-url' } },
    },
    egress: {
      allowlist: {
        sap: [s4.url],
        erpnext: [erpnext.url],
        qms: [qms.url],
        chat: [new URL(chat.url).origin],
      },
    },
    plants: {
      P1: { erp: 'sap', qms: 'qms', notify: 'chat' },
      P2: { erp: 'erpnext', qms: 'qms' },
    },
  }
}

function startProblems(d: Doc, env: NodeJS.ProcessEnv): FieldProblem[] {
  try {
    buildRuntime(loadConfig(tmp.write('qualink.yaml', d), {}), env)
  } catch (e) {
    if (isQualinkError(e) && e.code === 'QLK_CONFIG_INVALID') return [...e.errors]
    throw e
  }
  throw new Error('runtime built, expected QLK_CONFIG_INVALID')
}

describe('connector secrets from environment variables or files', () => {
  it('file and env secrets reach the connectors and the simulators accept them', async () => {
    // ERPNEXT_SECRET exists only in the env handed to buildRuntime, not in process.env
    expect(process.env.ERPNEXT_SECRET).toBeUndefined()
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc()), {}), {
      ERPNEXT_SECRET: 'env-secret',
    })
    // qms: the sim answers 401 to any other bearer token; an unknown lot is null, not an error
    expect(await (rt.connectors.qms as QmsPort).getInspectionLot('NOPE')).toBeNull()
    // notify: the URL itself is the secret; the POST lands on the receiver it names
    await (rt.connectors.chat as NotifyPort).send({
      idempotencyKey: 'n-1',
      severity: 'info',
      title: 'secret from a file',
      text: 'delivered',
    })
    const [got] = await chat.waitFor(1)
    expect(got!.body).toContain('secret from a file')
    // erpnext: key from a file, secret from buildRuntime's env; a receipt then a transfer
    const receipt = await fetch(`${erpnext.url}/api/resource/Stock%20Entry`, {
      method: 'POST',
      headers: { authorization: 'token file-key:env-secret', 'content-type': 'application/json' },
      body: JSON.stringify({
        purpose: 'Material Receipt',
        docstatus: 1,
        items: [{ item_code: 'RAW-9', batch_no: 'B9', qty: '5', t_warehouse: 'QI' }],
      }),
    })
    expect(receipt.status).toBe(200)
    const r = await (rt.connectors.erpnext as ErpPort).transferStock({
      idempotencyKey: 'secret-test/transfer',
      lot: { plant: 'P2', material: 'RAW-9', lot: 'B9' },
      from: 'qualityInspection',
      to: 'unrestricted',
      quantity: { units: 5000, scale: 3, uom: 'Nos' },
    })
    expect(r.documents).toHaveLength(1)
    expect(erpnext.state.counts.submittedStockEntriesByBatch.B9).toBe(2)
  })

  it('a wrong key read from a file is refused by the QMS (the file is really what is sent)', async () => {
    tmp.write('qms-key-wrong', 'not-the-key')
    const d = doc()
    ;(d.connectors as Record<string, Doc>).qms!.config = { baseUrl: qms.url, apiKeyFile: 'qms-key-wrong' }
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', d), {}), { ERPNEXT_SECRET: 'env-secret' })
    await expect((rt.connectors.qms as QmsPort).getInspectionLot('NOPE')).rejects.toMatchObject({
      code: 'QLK_REMOTE_REJECTED',
      message: expect.stringContaining('401'),
    })
  })

  it('a missing file or variable is QLK_CONFIG_INVALID naming the field; process.env is not consulted', () => {
    const d = doc()
    const c = d.connectors as Record<string, Doc>
    c.sap!.config = { baseUrl: s4.url, auth: { username: 'RFC_QLK', passwordFile: 'no-such-file' } }
    c.chat!.config = { urlEnv: 'CHAT_URL' }
    process.env.ERPNEXT_SECRET = 'in-process-env-only'
    try {
      const problems = startProblems(d, {})
      expect(problems).toEqual(
        expect.arrayContaining([
          {
            path: '/connectors/sap/config/auth/passwordFile',
            message: expect.stringMatching(/^cannot read .*no-such-file/),
          },
          {
            path: '/connectors/erpnext/config/apiSecretEnv',
            message: 'environment variable ERPNEXT_SECRET is not set',
          },
          { path: '/connectors/chat/config/urlEnv', message: 'environment variable CHAT_URL is not set' },
        ]),
      )
    } finally {
      delete process.env.ERPNEXT_SECRET
    }
  })

  it('an empty secret file is refused; `qualink config validate` finds a missing or doubled secret', () => {
    tmp.write('empty', '\n')
    const d = doc()
    const c = d.connectors as Record<string, Doc>
    c.qms!.config = { baseUrl: qms.url, apiKeyFile: 'empty' }
    expect(startProblems(d, { ERPNEXT_SECRET: 'x' })).toContainEqual({
      path: '/connectors/qms/config/apiKeyFile',
      message: expect.stringMatching(/ is empty$/),
    })
    const both = doc()
    const b = both.connectors as Record<string, Doc>
    b.sap!.config = { baseUrl: s4.url, auth: { username: 'U', passwordEnv: 'P', passwordFile: 'f' } }
    delete (b.erpnext!.config as Doc).apiKeyFile
    b.qms!.config = { baseUrl: qms.url, apiKeyEnv: 'K', apiKeyFile: 'qms-key' }
    const problems = problemsOf(tmp, both)
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        '/connectors/sap/config/auth',
        '/connectors/erpnext/config/apiKeyEnv',
        '/connectors/erpnext/config/apiKeyFile',
        '/connectors/qms/config',
      ]),
    )
  })
})
