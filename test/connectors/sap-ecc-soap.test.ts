/**
 * erp/sap-ecc-soap against the SOAP face of the erp-ecc simulator over real sockets: the WSDL is
 * read and checked, usage decisions go to ECC's inspection lot, stock splits and transfers are
 * BAPI_GOODSMVT_CREATE calls read back by header text. Effects are counted from the simulator's
 * state (documents per lot and bucket); like ECC it never deduplicates.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpEccOptions, type ErpEccSim, startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { goodsReceiptXml, soapCall } from '../../simulators/erp-ecc/soap-test-calls.ts'
import { wsdlFor } from '../../simulators/erp-ecc/soap-wsdl.ts'
import type { FaultConfig } from '../../simulators/shared/faults.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { NEEDED } from '../../src/connectors/erp/sap-ecc-soap/client.ts'
import { sapEccSoapConnector } from '../../src/connectors/erp/sap-ecc-soap/connector.ts'
import { missingFromWsdl, parseWsdl } from '../../src/connectors/erp/sap-ecc-soap/soap.ts'
import { ConnectorConfigError, ManualClock, RemoteRejected } from '../../src/connectors/sdk/index.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { TempDir } from '../config/fixture.ts'
import { expectOneDocumentPerBucket, INSPECTION_LOT, kg, LOT, split } from './ecc-fixtures.ts'
import { asEngine } from './engine-retry.ts'

let dir: string
let sim: ErpEccSim
let erp: ErpPort

const connect = (config: Record<string, unknown> = {}, environment?: { env: NodeJS.ProcessEnv }) =>
  sapEccSoapConnector.instantiate(
    { baseUrl: sim.url, egress: { timeoutMs: 300 }, ...config },
    {
      name: 'ecc-soap-test',
      allowlist: [sim.url],
      clock: new ManualClock(),
      leaseMs: 30_000,
      environment: environment && { env: environment.env, baseDir: dir },
    },
  )

async function startWithReceipt(opts: ErpEccOptions = {}): Promise<void> {
  sim = await startErpEcc({
    port: 0,
    materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } },
    ...opts,
  })
  // a goods receipt of 100 KG into quality-inspection stock opens inspection lot 010000000001
  const gr = await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
  expect(gr.status).toBe(200)
  expect(sim.state.inspectionLots.map((l) => l.number)).toEqual([INSPECTION_LOT])
  erp = connect()
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qlk-ecc-soap-'))
  await startWithReceipt()
})
afterEach(async () => {
  await sim.close()
  await rm(dir, { recursive: true, force: true })
})

const decision = (code = 'A1', key = 'run-1/ud') => ({
  idempotencyKey: key,
  plant: '1000',
  inspectionLot: INSPECTION_LOT,
  valuation: 'accepted' as const,
  code,
  codeGroup: '01',
  reference: 'QMS-LOT-77',
})

const at = (operation: string) => ({ method: 'POST', path: `/sap/bc/soap/rfc/sap/${operation}` })

describe('erp/sap-ecc-soap usage decision and stock split', () => {
  it('records the UD on the inspection lot and posts one goods movement per bucket, read back on replay', async () => {
    expect(await erp.recordUsageDecision(decision())).toEqual({ changed: true })
    expect(sim.state.inspectionLots[0]).toMatchObject({ udCode: 'A1', text: 'QMS-LOT-77' })
    const r = await erp.postStockDisposition(split())
    expect(r.alreadyDone).toBe(false)
    expect(r.documents).toHaveLength(3)
    expectOneDocumentPerBucket(sim)
    const ours = sim.state.materialDocuments.filter((d) => d.headerText.startsWith('QLK'))
    expect(ours.map((d) => d.number).sort()).toEqual([...r.documents].sort())
    expect(ours.map((d) => d.items[0]!.movementType).sort()).toEqual(['321', '350', '553'])
    for (const d of ours) expect(d.headerText).toMatch(/^QLK[0-9A-F]{22}$/)
    // a replayed step (same key) finds its documents by header text and posts nothing
    const again = await erp.postStockDisposition(split())
    expect(again.alreadyDone).toBe(true)
    expect([...again.documents].sort()).toEqual([...r.documents].sort())
    expectOneDocumentPerBucket(sim)
    expect(await erp.readLotStock(LOT)).toEqual({
      lot: LOT,
      quantities: { unrestricted: kg(60), blocked: kg(30) },
    })
  })

  it('reserves go to blocked stock of the reserves storage location and read back as reserves', async () => {
    await erp.postStockDisposition({
      ...split(),
      lines: [
        { bucket: 'reserves', quantity: kg(2) },
        { bucket: 'release', quantity: kg(98) },
      ],
    })
    expect(sim.state.stock[0]!.buckets).toMatchObject({ reserves: 2000, unrestricted: 98_000, qi: 0 })
    expect((await erp.readLotStock(LOT)).quantities).toEqual({ unrestricted: kg(98), reserves: kg(2) })
  })

  const FAULTS: Array<[string, Partial<FaultConfig>]> = [
    [
      'commit-then-drop of every goods movement',
      { dropResponseRate: 1, times: 3, match: at('BAPI_GOODSMVT_CREATE') },
    ],
    ['5xx', { errorRate: 1, errorStatus: 503, times: 2, match: at('BAPI_GOODSMVT_CREATE') }],
    [
      '429 with Retry-After',
      { rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: at('BAPI_GOODSMVT_CREATE') },
    ],
    ['hang', { hangRate: 1, times: 1, match: at('BAPI_GOODSMVT_CREATE') }],
    ['latency', { latencyMs: 20, match: at('BAPI_GOODSMVT_CREATE') }],
  ]
  for (const [name, faults] of FAULTS) {
    it(`${name}: exactly one document per bucket`, async () => {
      sim.faults.set(faults)
      const r = await asEngine(() => erp.postStockDisposition(split()))
      expect(r.documents).toHaveLength(3)
      expectOneDocumentPerBucket(sim)
      const injected = Object.values(sim.state.faultsInjected).reduce((a, b) => a + b, 0)
      if (!faults.latencyMs) expect(injected).toBeGreaterThan(0)
    })
  }

  it('commit-then-drop of the UD: the read-back finds it, and the retry does not fail on "already made"', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 1, match: at('BAPI_INSPLOT_SETUSAGEDECISION') })
    expect(await asEngine(() => erp.recordUsageDecision(decision()))).toEqual({ changed: true })
    expect(sim.state.faultsInjected.dropResponse).toBe(1)
    expect(sim.state.inspectionLots[0]!.udCode).toBe('A1')
    // the engine replays the step: ECC answers QA 094, the lot shows A1 → success, nothing changed
    expect(await erp.recordUsageDecision(decision())).toEqual({ changed: false })
  })

  it('"already made" with another code on the lot is a conflict for a person, not success', async () => {
    const other = await soapCall(
      sim.url,
      'BAPI_INSPLOT_SETUSAGEDECISION',
      `<NUMBER>${INSPECTION_LOT}</NUMBER><UD_DATA><UD_CODE>R9</UD_CODE></UD_DATA>`,
    )
    expect(other.status).toBe(200)
    const err = await erp.recordUsageDecision(decision('A1')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect(err).toMatchObject({ code: 'QLK_REMOTE_CONFLICT', message: expect.stringContaining('R9') })
    expect(sim.state.inspectionLots[0]!.udCode).toBe('R9')
  })

  it('a BAPI RETURN error is a permanent failure carrying ECC’s message; nothing is posted', async () => {
    const t = {
      idempotencyKey: 'complaint-7/block',
      lot: LOT,
      from: 'unrestricted',
      to: 'blocked',
      quantity: kg(40),
    } as const
    const err = await erp.transferStock(t).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteRejected)
    expect(err).toMatchObject({ code: 'QLK_REMOTE_REJECTED', remoteCode: 'M7/021' })
    expect((err as Error).message).toMatch(/E M7 021: Deficit of unrestricted stock/)
    expect(sim.state.materialDocuments).toHaveLength(1)
  })

  it('a SOAP fault with an E message is a permanent failure carrying it', async () => {
    const err = await erp.readLotStock({ ...LOT, material: '' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteRejected)
    expect(err).toMatchObject({ code: 'QLK_REMOTE_REJECTED', remoteCode: 'BAPI/001' })
    expect((err as Error).message).toMatch(
      /SOAP fault soap-env:Client .*\[E BAPI 001: Z_BATCH_STOCK_READ-MATERIAL is required\]/,
    )
  })

  it('transfer with commit-then-drop: one 344 document carrying the reference', async () => {
    await erp.postStockDisposition({ ...split(), lines: [{ bucket: 'release', quantity: kg(100) }] })
    sim.faults.set({ dropResponseRate: 1, times: 2, match: at('BAPI_GOODSMVT_CREATE') })
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
    expect(blocks.map((d) => d.number)).toEqual(r.documents)
    expect(sim.state.stock[0]!.buckets).toMatchObject({ unrestricted: 60_000, blocked: 40_000 })
  })

  it('refuses holds and delivery blocks with QLK_VALIDATION naming the operation', async () => {
    for (const [op, p] of [
      [
        'setProductionOrderHold',
        erp.setProductionOrderHold({ idempotencyKey: 'k', order: '1', onHold: true }),
      ],
      ['setDeliveryBlock', erp.setDeliveryBlock({ idempotencyKey: 'k', delivery: '8', blocked: true })],
    ] as const) {
      await expect(p).rejects.toMatchObject({ code: 'QLK_VALIDATION', message: expect.stringContaining(op) })
    }
  })
})

describe('erp/sap-ecc-soap WSDL check', () => {
  it('refuses an operation the WSDL lacks, naming it, while the offered ones work', async () => {
    await sim.close()
    await startWithReceipt({
      soap: { operations: Object.keys(NEEDED).filter((op) => op !== 'Z_BATCH_STOCK_READ') },
    })
    const err = await erp.readLotStock(LOT).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect(err).toMatchObject({ code: 'QLK_CONFIG_INVALID' })
    expect((err as Error).message).toMatch(/WSDL at .*wsdl11\?services=.* lacks operation Z_BATCH_STOCK_READ/)
    const calls = sim.state.http.requests
    expect(await erp.recordUsageDecision(decision())).toEqual({ changed: true })
    // the WSDL was read once; the refused call sent nothing
    expect(sim.state.http.requests - calls).toBe(1)
  })

  it('names a missing message part of a needed operation', () => {
    const full = wsdlFor(Object.keys(NEEDED), 'http://ecc.example')
    expect(missingFromWsdl(parseWsdl(full), NEEDED)).toEqual([])
    const noUdData = full.replace('<xsd:element name="UD_DATA" type="xsd:anyType" minOccurs="0"/>', '')
    expect(missingFromWsdl(parseWsdl(noUdData), NEEDED)).toEqual([
      'input parameter BAPI_INSPLOT_SETUSAGEDECISION.UD_DATA',
    ])
  })

  it('a wsdlPath that does not answer a WSDL is a configuration error naming it', async () => {
    const wrong = connect({ wsdlPath: '/__sim/state' })
    await expect(wrong.readLotStock(LOT)).rejects.toMatchObject({
      code: 'QLK_CONFIG_INVALID',
      message: expect.stringMatching(
        /wsdlPath .*\/__sim\/state\?services=\S+ is not a usable WSDL 1.1 document/,
      ),
    })
  })

  it('a WSDL that cannot be read is retryable and read again at the next call', async () => {
    sim.faults.set({
      errorRate: 1,
      errorStatus: 503,
      times: 1,
      match: { method: 'GET', path: '/sap/bc/soap/wsdl' },
    })
    await expect(erp.readLotStock(LOT)).rejects.toMatchObject({ code: 'QLK_REMOTE_UNAVAILABLE' })
    expect((await erp.readLotStock(LOT)).quantities).toEqual({ qualityInspection: kg(100) })
  })
})

describe('erp/sap-ecc-soap config', () => {
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
    expect(problemsOf({ wsdlPath: 'no-slash', sapClient: '1000' })).toEqual(
      expect.arrayContaining(['/wsdlPath', '/sapClient']),
    )
    expect(problemsOf({ egress: { timeoutMs: 40_000 } })).toEqual(['/egress/timeoutMs'])
    expect(problemsOf({ colour: 'red' })).toContain('/colour')
  })

  it('reads the password from an environment variable or a file; a missing one names the field', async () => {
    expect(problemsOf({ auth: { username: 'RFC_QLK' } })).toEqual(
      expect.arrayContaining(['/auth/passwordEnv', '/auth/passwordFile']),
    )
    expect(problemsOf({ auth: { username: 'RFC_QLK', passwordEnv: 'ECC_PW' } })).toEqual([
      '/auth/passwordEnv',
    ])
    await mkdir(path.join(dir, 'secrets'))
    await writeFile(path.join(dir, 'secrets', 'ecc'), 'pw\n')
    expect(() =>
      connect({ auth: { username: 'RFC_QLK', passwordFile: 'secrets/ecc' } }, { env: {} }),
    ).not.toThrow()
    const withEnv = connect(
      { auth: { username: 'RFC_QLK', passwordEnv: 'ECC_PW' }, sapClient: '100' },
      {
        env: { ECC_PW: 'pw' },
      },
    )
    expect(await withEnv.recordUsageDecision(decision())).toEqual({ changed: true })
  })

  it('refuses a target off the allowlist', () => {
    expect(() => sapEccSoapConnector.instantiate({ baseUrl: sim.url }, { name: 'x', allowlist: [] })).toThrow(
      /allowlist/,
    )
  })

  it('is chosen by a plant in qualink.yaml, and a bad field is reported at its path in the file', async () => {
    const yaml = (config: Record<string, unknown>) => ({
      version: 1,
      connectors: {
        ecc: { kind: 'erp/sap-ecc-soap', config: { baseUrl: sim.url, ...config } },
        qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
      },
      egress: { allowlist: { ecc: [sim.url], qms: ['https://qms.example'] } },
      plants: { '1000': { erp: 'ecc', qms: 'qms' } },
    })
    const tmp = new TempDir()
    try {
      const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', yaml({})), {}), {})
      expect(await rt.ports.erp.recordUsageDecision(decision())).toEqual({ changed: true })
      expect((await rt.ports.erp.postStockDisposition(split())).documents).toHaveLength(3)
      expectOneDocumentPerBucket(sim)
      let problems: unknown
      try {
        buildRuntime(loadConfig(tmp.write('qualink.yaml', yaml({ quantityScale: 9 })), {}), {})
      } catch (e) {
        if (isQualinkError(e)) problems = e.errors
        else throw e
      }
      expect(problems).toContainEqual({
        path: '/connectors/ecc/config/quantityScale',
        message: expect.any(String),
      })
    } finally {
      tmp.remove()
    }
  })
})
