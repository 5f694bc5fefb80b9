/**
 * EDI end to end from qualink.yaml (issue 11 item 5), on both dialects: a Qualink built by
 * loadConfig + buildRuntime with an edi/x12 connector sends the 861 for a received and decided lot
 * through the plant's EDI port, tracks it until the partner's 997 comes back through the inbound
 * folder (overdue before it, accepted after; GET /v1/edi/outbound and the metric), and answers
 * inbound interchanges with TA1/997: an 856 accepted and translated; a bad SE01 rejected with
 * AK5 R 4 and nothing stored; the same interchange again neither processed nor answered anew.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { parseX12 } from '../../src/connectors/edi/x12/parser.ts'
import { EVENT_EXAMPLES } from '../../src/contracts/events/examples.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { ediDoc } from '../config/edi-doc.ts'
import { TempDir } from '../config/fixture.ts'
import { createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'

const run = promisify(execFile)
const FIXTURES = path.join(import.meta.dirname, '../fixtures/edi')
const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })

/** A partner's 997 for our group `control` (AK1*RC), as their translator would send it. */
function partner997(isa13: string, control: number, code: 'A' | 'R'): string {
  return [
    `ISA*00*          *00*          *ZZ*V42SUPPLIER    *ZZ*QUALINKP100    *250305*0900*U*00401*${isa13}*0*T*>`,
    `GS*FA*V42SUPPLIER*QUALINKP100*20250305*0900*${Number(isa13)}*X*004010`,
    'ST*997*0001',
    `AK1*RC*${control}`,
    'AK2*861*0001',
    code === 'A' ? 'AK5*A' : 'AK5*R*5',
    `AK9*${code}*1*1*${code === 'A' ? 1 : 0}`,
    'SE*6*0001',
    `GE*1*${Number(isa13)}`,
    `IEA*1*${isa13}`,
  ]
    .map((s) => `${s}~\n`)
    .join('')
}

describe.each(DIALECTS)('EDI configured in qualink.yaml on %s', (dialect: Dialect) => {
  let tmp: TempDir
  let db: TestDatabase
  let store: Store
  let q: Qualink
  let inbound: string
  let outbound: string

  beforeAll(async () => {
    tmp = new TempDir()
    // overdueAfter 1ms: an 861 is overdue as soon as it is sent, until its 997 arrives
    const doc = ediDoc({
      edi: {
        acknowledgments: { overdueAfter: '1ms' },
        inbound: { dir: './edi/in', plant: 'P100', pollMs: 100, settleMs: 0 },
      },
    })
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), {})
    inbound = path.join(tmp.dir, 'edi/in')
    outbound = path.join(tmp.dir, 'edi/out')
    mkdirSync(inbound, { recursive: true })
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    q = await startQualink({
      ...rt.options,
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'anchors.jsonl'),
      singletonLeaseMs: 2000,
    })
  })

  afterAll(async () => {
    await q?.close()
    await store?.close()
    await db?.cleanup()
    tmp?.remove()
  })

  const post = async (id: string, type: string, subject: string, data: object) => {
    const r = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({
        specversion: '1.0',
        id,
        source: 'urn:qualink:test',
        type,
        subject,
        plant: 'P100',
        time: new Date().toISOString(),
        data,
      }),
    })
    expect(r.statusCode).toBeLessThan(300)
  }
  const outboundList = async (query = '') =>
    (await q.app.inject({ method: 'GET', url: `/v1/edi/outbound${query}` })).json().interchanges as Array<{
      partner: string
      groupControl: string
      status: string
      subject: string
      ackCodes: string | null
    }>
  const metric = async (status: string) => {
    const text = (await q.app.inject({ method: 'GET', url: '/metrics' })).body
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(`qualink_edi_outbound_interchanges{plant="P100",partner="V-42",status="${status}"}`),
      )
    return line === undefined ? 0 : Number(line.split(' ').at(-1))
  }
  const drop = (name: string, text: string | Buffer) => writeFileSync(path.join(inbound, name), text)
  const processed = (name: string) =>
    existsSync(path.join(inbound, 'processed', name)) || existsSync(path.join(inbound, 'failed', name))
  const outFiles = () =>
    readdirSync(outbound)
      .filter((f) => !f.startsWith('.'))
      .sort()

  it('sends the 861 for a decided lot; overdue until the partner 997 accepts it', async () => {
    const gr = EVENT_EXAMPLES['erp.goods_receipt.posted.v1'] as Record<string, unknown>
    await post('gr-1', 'erp.goods_receipt.posted.v1', 'B-1', {
      ...gr,
      lot: { id: 'B-1', material: 'M-100', plant: 'P100' },
      supplier: 'V-42',
      supplierBatch: 'ACME-1',
    })
    const ud = EVENT_EXAMPLES['qms.usage_decision.made.v1'] as Record<string, unknown>
    await post('ud-1', 'qms.usage_decision.made.v1', 'B-1', {
      ...ud,
      lot: 'B-1',
      stockPostings: [
        { code: 'RELEASE', quantity: kg(40) },
        { code: 'SCRAP', quantity: kg(10) },
      ],
    })
    await until(async () => existsSync(outbound) && outFiles().includes('861-V-42-000000001.x12'), 45_000)
    const x = parseX12(readFileSync(path.join(outbound, '861-V-42-000000001.x12')))
    expect(x).toMatchObject({ sender: 'QUALINKP100', receiver: 'V42SUPPLIER', controlNumber: '000000001' })
    const rcd = x.groups[0]!.transactions[0]!.body.find((s) => s.id === 'RCD')?.elements
    expect(rcd).toEqual(['RCD', '1', '40.000', 'KG', '', '', '10.000', 'KG', '07'])

    await until(async () => (await outboundList('?status=overdue')).length === 1)
    expect(await outboundList()).toMatchObject([
      { partner: 'V-42', groupControl: '1', subject: 'B-1', status: 'overdue', ackCodes: null },
    ])
    expect(await metric('overdue')).toBe(1)

    drop('997-from-v42.x12', partner997('000000501', 1, 'A'))
    await until(async () => (await outboundList())[0]?.status === 'accepted')
    expect(await metric('overdue')).toBe(0)
    expect(await metric('accepted')).toBe(1)
    // a 997 is never acknowledged: nothing new in the outbound folder
    expect(outFiles()).toEqual(['861-V-42-000000001.x12'])
    expect(await outboundList('?status=overdue')).toEqual([])
    // the same list from the command line, through the API
    const cli = await run(
      process.execPath,
      ['bin/qualink.js', 'edi', 'outbound', '--url', q.url, '--status', 'accepted'],
      {
        cwd: path.resolve(import.meta.dirname, '../..'),
      },
    )
    expect(cli.stdout).toMatch(/^P100 +V-42 +861 +000000001 +B-1 +\S+ +accepted +— *$/m)
    // the 997's raw delivery is kept (what did the partner send?) and translates to no event
    await until(async () =>
      (await store.ingress.listRawDeliveries(ALL, { source: 'edi-suppliers', limit: 10 })).some(
        (d) => d.deliveryId === 'x12:ZZ:V42SUPPLIER:000000501' && d.status === 'translated',
      ),
    )
  })

  it('answers a valid 856 asking for a TA1 with TA1 A and a 997 accepting it, and translates it', async () => {
    const text = readFileSync(path.join(FIXTURES, '856-valid.x12'), 'latin1').replace('*0*T*>', '*1*T*>')
    drop('asn-101.x12', text)
    await until(() => processed('asn-101.x12'))
    await until(
      async () =>
        (await store.listEvents(ALL, { type: 'erp.ship_notice.received.v1', limit: 5 })).length === 1,
    )
    const ack = outFiles().find((f) => f.startsWith('997-V-42-'))!
    expect(ack).toBe('997-V-42-000000002.x12')
    const segs = readFileSync(path.join(outbound, ack), 'latin1').trim().split('~\n')
    expect(segs).toEqual([
      expect.stringMatching(
        /^ISA\*00\*.*\*ZZ\*QUALINKP100 {4}\*ZZ\*V42SUPPLIER {4}\*\d{6}\*\d{4}\*U\*00401\*000000002\*0\*T\*>$/,
      ),
      'TA1*000000101*250304*1015*A*000',
      expect.stringMatching(/^GS\*FA\*QUALINKP100\*V42SUPPLIER\*\d{8}\*\d{4}\*2\*X\*004010$/),
      'ST*997*0001',
      'AK1*SH*101',
      'AK2*856*0001',
      'AK5*A',
      'AK9*A*1*1*1',
      'SE*6*0001',
      'GE*1*2',
      'IEA*1*000000002~',
    ])
  })

  it('rejects a bad SE01 with AK5 R 4 and AK9 R, storing nothing of it', async () => {
    const text = readFileSync(path.join(FIXTURES, '856-wrong-se-count.x12'), 'latin1').replaceAll(
      '000000101',
      '000000102',
    )
    drop('asn-102.x12', text)
    await until(() => processed('asn-102.x12'))
    expect(existsSync(path.join(inbound, 'failed', 'asn-102.x12'))).toBe(true)
    const deliveries = await store.ingress.listRawDeliveries(ALL, { source: 'edi-suppliers', limit: 10 })
    expect(deliveries.map((d) => d.deliveryId)).not.toContain('x12:ZZ:V42SUPPLIER:000000102')
    const ack = readFileSync(path.join(outbound, '997-V-42-000000003.x12'), 'latin1').trim().split('~\n')
    // no TA1: ISA14 = 0 asked for none, and the envelope itself was sound
    expect(ack.slice(1, -1)).toEqual([
      expect.stringMatching(/^GS\*FA\*/),
      'ST*997*0001',
      'AK1*SH*101',
      'AK2*856*0001',
      'AK5*R*4',
      'AK9*R*1*1*0',
      'SE*6*0001',
      'GE*1*3',
    ])
  })

  it('a duplicate ISA13 (the same file renamed, or another interchange reusing it) is neither processed nor acknowledged anew', async () => {
    const before = outFiles()
    const text = readFileSync(path.join(FIXTURES, '856-valid.x12'), 'latin1').replace('*0*T*>', '*1*T*>')
    drop('asn-101-again.x12', text)
    await until(() => processed('asn-101-again.x12'))
    expect(await store.listEvents(ALL, { type: 'erp.ship_notice.received.v1', limit: 5 })).toHaveLength(1)
    const deliveries = await store.ingress.listRawDeliveries(ALL, { source: 'edi-suppliers', limit: 10 })
    expect(deliveries.filter((d) => d.deliveryId === 'x12:ZZ:V42SUPPLIER:000000101')).toHaveLength(1)
    // the recorded acknowledgment is written again under its own number; no number is drawn
    expect(outFiles()).toEqual(before)
    // another interchange reusing ISA13 000000101 (a partner's numbering fault): refused as a duplicate
    drop('asn-other.x12', text.replace('ASN-2025-0042', 'ASN-2025-0999'))
    await until(() => processed('asn-other.x12'))
    const notices = await store.listEvents(ALL, { type: 'erp.ship_notice.received.v1', limit: 5 })
    expect(notices.map((e) => e.subject)).toEqual(['ASN-2025-0042'])
    expect(outFiles()).toEqual(before)
  })

  it("a partner's rejecting 997 marks the 861 rejected with its codes", async () => {
    const gr = EVENT_EXAMPLES['erp.goods_receipt.posted.v1'] as Record<string, unknown>
    await post('gr-2', 'erp.goods_receipt.posted.v1', 'B-2', {
      ...gr,
      lot: { id: 'B-2', material: 'M-100', plant: 'P100' },
      supplier: 'V-42',
    })
    const ud = EVENT_EXAMPLES['qms.usage_decision.made.v1'] as Record<string, unknown>
    await post('ud-2', 'qms.usage_decision.made.v1', 'B-2', {
      ...ud,
      inspectionLot: 'IL-2',
      lot: 'B-2',
      stockPostings: [{ code: 'RELEASE', quantity: kg(50) }],
    })
    await until(async () => (await outboundList()).some((r) => r.subject === 'B-2'), 45_000)
    const sent = (await outboundList()).find((r) => r.subject === 'B-2')!
    drop('997-reject.x12', partner997('000000502', Number(sent.groupControl), 'R'))
    await until(async () => (await outboundList('?status=rejected')).length === 1)
    expect((await outboundList('?status=rejected'))[0]).toMatchObject({
      subject: 'B-2',
      ackCodes: 'AK5 0001:5',
    })
  })
})
