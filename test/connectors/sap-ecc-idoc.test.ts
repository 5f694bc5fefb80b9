/**
 * erp/sap-ecc-idoc against the erp-ecc simulator over real sockets: MBGMCR IDoc-XML over HTTP in,
 * SYSTAT01 status IDocs out through the simulator's outbound folder (ECC's file port). Effects are
 * counted from the simulator's state (documents per lot and bucket); like ECC it never deduplicates.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpEccSim, startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { mbgmcr } from '../../simulators/erp-ecc/test-idocs.ts'
import type { FaultConfig } from '../../simulators/shared/faults.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { sapEccIdocConnector } from '../../src/connectors/erp/sap-ecc-idoc/connector.ts'
import { ConnectorConfigError, ManualClock } from '../../src/connectors/sdk/index.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { TempDir } from '../config/fixture.ts'
import { expectOneDocumentPerBucket, kg, LOT, STOCK_KEY, split } from './ecc-fixtures.ts'
import { asEngine } from './engine-retry.ts'

let dir: string
let statusDir: string
let sim: ErpEccSim
let erp: ErpPort

const connect = (config: Record<string, unknown> = {}, environment?: { env: NodeJS.ProcessEnv }) =>
  sapEccIdocConnector.instantiate(
    { baseUrl: sim.url, statusDir, egress: { timeoutMs: 300 }, ...config },
    {
      name: 'ecc-test',
      allowlist: [sim.url],
      clock: new ManualClock(),
      leaseMs: 30_000,
      environment: environment && { env: environment.env, baseDir: dir },
    },
  )

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qlk-ecc-conn-'))
  statusDir = path.join(dir, 'status')
  sim = await startErpEcc({
    port: 0,
    outboundDir: statusDir,
    materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } },
  })
  // a goods receipt of 100 KG into quality-inspection stock, as ECC posts it for a QM material
  const gr = await fetch(`${sim.url}/sap/bc/idoc_xml`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: mbgmcr('9000000000000001', {
      MATERIAL: 'RAW-100',
      BATCH: 'B1',
      MOVE_TYPE: '101',
      PO_NUMBER: '4500000017',
      ENTRY_QNT: '100',
    }),
  })
  expect(await gr.text()).toContain('(status 53)')
  expect(sim.state.stock[0]!.buckets.qi).toBe(100_000)
  erp = connect()
})
afterEach(async () => {
  await sim.close()
  await rm(dir, { recursive: true, force: true })
})

const IDOC_POST = { method: 'POST', path: '/sap/bc/idoc_xml' }
const FAULTS: Array<[string, Partial<FaultConfig>]> = [
  ['commit-then-drop-response, every IDoc once', { dropResponseRate: 1, times: 3, match: IDOC_POST }],
  ['5xx', { errorRate: 1, errorStatus: 503, times: 2, match: IDOC_POST }],
  ['429 with Retry-After', { rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: IDOC_POST }],
  ['hang', { hangRate: 1, times: 1, match: IDOC_POST }],
  ['latency', { latencyMs: 20, match: IDOC_POST }],
]

describe('erp/sap-ecc-idoc stock disposition as goods-movement IDocs', () => {
  it('posts one MBGMCR IDoc and one material document per bucket, each carrying the reference', async () => {
    const r = await erp.postStockDisposition(split())
    expect(r.alreadyDone).toBe(false)
    expect(r.documents).toHaveLength(3)
    expectOneDocumentPerBucket(sim)
    const ours = sim.state.materialDocuments.filter((d) => d.headerText.startsWith('QLK'))
    expect(ours.map((d) => d.number).sort()).toEqual([...r.documents].sort())
    expect(ours.map((d) => d.items[0]!.movementType).sort()).toEqual(['321', '350', '553'])
    for (const d of ours) expect(d.headerText).toMatch(/^QLK[0-9A-F]{22}$/)
    // 53 status IDocs name the material documents the connector reports
    expect(sim.state.idocs.filter((i) => i.status === '53')).toHaveLength(4)
    // a replayed step (same key) reads the status IDocs back and sends nothing
    const again = await erp.postStockDisposition(split())
    expect(again).toEqual({ documents: r.documents, alreadyDone: true })
    expect(sim.state.idocs).toHaveLength(4)
    expectOneDocumentPerBucket(sim)
  })

  for (const [name, faults] of FAULTS) {
    it(`${name}: exactly one document per bucket`, async () => {
      sim.faults.set(faults)
      const r = await asEngine(() => erp.postStockDisposition(split()))
      expect(r.documents).toHaveLength(3)
      expectOneDocumentPerBucket(sim)
      const injected = Object.values(sim.state.faultsInjected).reduce((a, b) => a + b, 0)
      if (!faults.latencyMs) expect(injected).toBeGreaterThan(0)
      const again = await erp.postStockDisposition(split())
      expect(again.alreadyDone).toBe(true)
      expectOneDocumentPerBucket(sim)
    })
  }

  it('commit-then-drop: the lost answer is settled by the status IDoc, not by a second IDoc', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 1, match: IDOC_POST })
    const r = await erp.postStockDisposition({
      ...split(),
      lines: [{ bucket: 'release', quantity: kg(100) }],
    })
    expect(sim.state.faultsInjected.dropResponse).toBe(1)
    expect(r).toEqual({ documents: [expect.stringMatching(/^49\d{8}$/)], alreadyDone: false })
    expect(sim.state.idocs).toHaveLength(2)
    expect(sim.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({ qi: 1, unrestricted: 1 })
  })

  it('a status 51 IDoc is a permanent failure with its message, and a retry sends nothing', async () => {
    const t = {
      idempotencyKey: 'complaint-7/block',
      lot: LOT,
      from: 'unrestricted',
      to: 'blocked',
      quantity: kg(40),
    } as const
    const err = await erp.transferStock(t).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_REJECTED')
    expect((err as Error).message).toMatch(/status 51: .*M7\/021/)
    const idocs = sim.state.idocs.length
    const again = await erp.transferStock(t).catch((e: unknown) => e)
    expect((again as PermanentError).code).toBe('QLK_REMOTE_REJECTED')
    expect(sim.state.idocs).toHaveLength(idocs)
    expect(sim.state.counts.conservationViolations).toEqual([])
  })

  it('transfer with commit-then-drop: one 344 document carrying the reference', async () => {
    await erp.postStockDisposition({ ...split(), lines: [{ bucket: 'release', quantity: kg(100) }] })
    sim.faults.set({ dropResponseRate: 1, times: 2, match: IDOC_POST })
    const t = {
      idempotencyKey: 'complaint-9/block',
      lot: LOT,
      from: 'unrestricted',
      to: 'blocked',
      quantity: kg(40),
    } as const
    const r = await asEngine(() => erp.transferStock(t))
    expect(r.documents).toHaveLength(1)
    expect(await erp.transferStock(t)).toEqual({ documents: r.documents, alreadyDone: true })
    const blocks = sim.state.materialDocuments.filter((d) => d.items.some((i) => i.movementType === '344'))
    expect(blocks).toHaveLength(1)
    expect(blocks[0]!.number).toBe(r.documents[0])
    expect(sim.state.stock[0]!.buckets).toMatchObject({ unrestricted: 60_000, blocked: 40_000 })
  })

  it('refuses what ECC cannot do over IDoc with QLK_VALIDATION naming the operation', async () => {
    const refusals: Array<[string, Promise<unknown>]> = [
      [
        'recordUsageDecision',
        erp.recordUsageDecision({
          idempotencyKey: 'k',
          inspectionLot: '1',
          valuation: 'accepted',
          code: 'A',
        }),
      ],
      ['readLotStock', erp.readLotStock(LOT)],
      [
        'setProductionOrderHold',
        erp.setProductionOrderHold({ idempotencyKey: 'k', order: '1', onHold: true }),
      ],
      ['setDeliveryBlock', erp.setDeliveryBlock({ idempotencyKey: 'k', delivery: '8', blocked: true })],
    ]
    for (const [op, p] of refusals) {
      const err = await p.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PermanentError)
      expect(err).toMatchObject({ code: 'QLK_VALIDATION', message: expect.stringContaining(op) })
    }
    expect(sim.state.idocs).toHaveLength(1)
  })
})

describe('erp/sap-ecc-idoc config', () => {
  const problemsOf = (config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    try {
      connect(config, { env })
    } catch (e) {
      if (e instanceof ConnectorConfigError) return e.problems.map((p) => p.path)
      throw e
    }
    throw new Error('connector built, expected ConnectorConfigError')
  }

  it('names each bad field', () => {
    expect(problemsOf({ baseUrl: 'not a url' })).toContain('/baseUrl')
    expect(problemsOf({ statusWaitMs: 60_000, senderPartner: 'qualink lower' })).toEqual(
      expect.arrayContaining(['/statusWaitMs', '/senderPartner']),
    )
    expect(problemsOf({ statusDir: path.join(dir, 'missing') })).toEqual(['/statusDir'])
    expect(problemsOf({ inboundPath: 'no-slash' })).toContain('/inboundPath')
    expect(problemsOf({ colour: 'red' })).toContain('/colour')
  })

  it('reads the password from an environment variable or a file; a missing one names the field', async () => {
    expect(problemsOf({ auth: { username: 'RFC_QLK' } })).toEqual(
      expect.arrayContaining(['/auth/passwordEnv', '/auth/passwordFile']),
    )
    expect(problemsOf({ auth: { username: 'RFC_QLK', passwordEnv: 'A', passwordFile: 'b' } })).toEqual([
      '/auth',
    ])
    expect(problemsOf({ auth: { username: 'RFC_QLK', passwordEnv: 'ECC_PW' } })).toEqual([
      '/auth/passwordEnv',
    ])
    expect(problemsOf({ auth: { username: 'RFC_QLK', passwordFile: 'secrets/ecc' } })).toEqual([
      '/auth/passwordFile',
    ])
    await mkdir(path.join(dir, 'secrets'))
    await writeFile(path.join(dir, 'secrets', 'ecc'), 'pw\n')
    expect(() =>
      connect({ auth: { username: 'RFC_QLK', passwordFile: 'secrets/ecc' } }, { env: {} }),
    ).not.toThrow()
    expect(() =>
      connect({ auth: { username: 'RFC_QLK', passwordEnv: 'ECC_PW' } }, { env: { ECC_PW: 'pw' } }),
    ).not.toThrow()
  })

  it('refuses a target off the allowlist', () => {
    expect(() =>
      sapEccIdocConnector.instantiate({ baseUrl: sim.url, statusDir }, { name: 'x', allowlist: [] }),
    ).toThrow(/allowlist/)
  })
})

describe('erp/sap-ecc-idoc chosen by a plant in qualink.yaml', () => {
  const yaml = (config: Record<string, unknown>) => ({
    version: 1,
    connectors: {
      ecc: { kind: 'erp/sap-ecc-idoc', config: { baseUrl: sim.url, ...config } },
      qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
    },
    egress: { allowlist: { ecc: [sim.url], qms: ['https://qms.example'] } },
    plants: { '1000': { erp: 'ecc', qms: 'qms' } },
  })

  it("routes the plant's stock postings to ECC, statusDir relative to the file", async () => {
    const tmp = new TempDir()
    try {
      const file = tmp.write('qualink.yaml', yaml({ statusDir: path.relative(tmp.dir, statusDir) }))
      const rt = buildRuntime(loadConfig(file, {}), {})
      const r = await rt.ports.erp.postStockDisposition(split())
      expect(r.documents).toHaveLength(3)
      expectOneDocumentPerBucket(sim)
    } finally {
      tmp.remove()
    }
  })

  it('reports each bad field at its path in the file', () => {
    const tmp = new TempDir()
    try {
      const file = tmp.write('qualink.yaml', yaml({ statusDir: 'no-such-dir', statusWaitMs: 60_000 }))
      let problems: unknown
      try {
        buildRuntime(loadConfig(file, {}), {})
      } catch (e) {
        if (isQualinkError(e)) problems = e.errors
        else throw e
      }
      expect(problems).toContainEqual({
        path: '/connectors/ecc/config/statusWaitMs',
        message: expect.stringContaining('20000'),
      })
      const fixed = tmp.write('qualink.yaml', yaml({ statusDir: 'no-such-dir' }))
      expect(() => buildRuntime(loadConfig(fixed, {}), {})).toThrow(
        expect.objectContaining({
          errors: [
            {
              path: '/connectors/ecc/config/statusDir',
              message: expect.stringContaining('no-such-dir is not a directory'),
            },
          ],
        }),
      )
    } finally {
      tmp.remove()
    }
  })
})
