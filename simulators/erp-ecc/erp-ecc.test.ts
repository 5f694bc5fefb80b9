import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Receiver, startReceiver } from '../shared/test-support.ts'
import { type ErpEccSim, startErpEcc } from './server.ts'
import { matmas, mbgmcr } from './test-idocs.ts'
import { field, parseXml } from './xml.ts'

let sim: ErpEccSim
let hook: Receiver
let dir: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qlk-ecc-'))
  hook = await startReceiver()
  sim = await startErpEcc({
    port: 0,
    statusCallbackUrl: hook.url,
    inboundDir: path.join(dir, 'in'),
    outboundDir: path.join(dir, 'out'),
    materials: { 'RAW-100': { inspectionRelevant: false } },
  })
})
afterEach(async () => {
  await sim.close()
  await hook.close()
  await rm(dir, { recursive: true, force: true })
})

const post = (xml: string) =>
  fetch(`${sim.url}/sap/bc/idoc_xml`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: xml,
  })
const statusOf = (xml: string) => {
  const stats = parseXml(xml).children[0]!.children.find((c) => c.name === 'E1STATS')
  return {
    status: field(stats, 'STATUS'),
    docnum: field(stats, 'DOCNUM'),
    text: field(stats, 'STATXT'),
    matdoc: field(stats, 'STAPA1'),
  }
}

describe('erp-ecc simulator', () => {
  it('posts an MBGMCR goods movement over HTTP and answers with a status 53 IDoc', async () => {
    const res = await post(
      mbgmcr(
        '900001',
        { MATERIAL: 'RAW-100', BATCH: 'B1', MOVE_TYPE: '101', PO_NUMBER: '4500000017', ENTRY_QNT: '12.500' },
        { HEADER_TXT: 'QLK:k1' },
      ),
    )
    expect(res.status).toBe(200)
    const [d] = await hook.waitFor(1)
    expect(d!.headers['content-type']).toBe('application/xml')
    const s = statusOf(d!.body)
    expect(s).toMatchObject({ status: '53', docnum: '900001' })
    expect(s.matdoc).toMatch(/^49\d{8}$/)
    expect(sim.state.stock[0]!.buckets.unrestricted).toBe(12_500)
    expect(sim.state.materialDocuments[0]!.headerText).toBe('QLK:k1')
  })

  it('answers status 51 when the posting fails and never lets stock go negative', async () => {
    await post(
      mbgmcr('900002', { MATERIAL: 'RAW-100', BATCH: 'B2', MOVE_TYPE: '344', ENTRY_QNT: '5' }, {}, '04'),
    )
    const [d] = await hook.waitFor(1)
    expect(statusOf(d!.body)).toMatchObject({ status: '51', docnum: '900002' })
    expect(statusOf(d!.body).text).toContain('M7/021')
    expect(sim.state.counts.conservationViolations).toEqual([])
  })

  it('takes MATMAS QM settings into account: receipts of a QM material go to QI stock', async () => {
    await post(matmas('RAW-QM', true))
    await post(
      mbgmcr('900003', {
        MATERIAL: 'RAW-QM',
        BATCH: 'B3',
        MOVE_TYPE: '101',
        PO_NUMBER: '4500000018',
        ENTRY_QNT: '4',
      }),
    )
    await hook.waitFor(2)
    expect(sim.state.stock.find((s) => s.key.material === 'RAW-QM')!.buckets.qi).toBe(4_000)
  })

  it('processes IDoc files from the inbound folder and writes status files to the outbound folder', async () => {
    const inbound = path.join(dir, 'in')
    await writeFile(
      path.join(inbound, '.idoc1.xml.part'),
      mbgmcr('900004', {
        MATERIAL: 'RAW-100',
        BATCH: 'B4',
        MOVE_TYPE: '101',
        PO_NUMBER: '1',
        ENTRY_QNT: '1',
      }),
    )
    await rename(path.join(inbound, '.idoc1.xml.part'), path.join(inbound, 'idoc1.xml'))
    await writeFile(path.join(inbound, 'broken.xml'), '<MBGMCR03><IDOC>')
    await sim.scanInbound()
    expect(await readdir(path.join(inbound, 'processed'))).toEqual(['idoc1.xml'])
    expect(await readdir(path.join(inbound, 'failed'))).toEqual(['broken.xml'])
    const out = (await readdir(path.join(dir, 'out'))).filter((n) => n.endsWith('.xml'))
    expect(out).toHaveLength(1)
    expect(statusOf(await readFile(path.join(dir, 'out', out[0]!), 'utf8')).status).toBe('53')
  })

  it('commit-then-drop and duplicate status callbacks', async () => {
    sim.faults.set({ dropResponseRate: 1, duplicateRate: 1, times: 2 })
    await expect(
      post(
        mbgmcr('900005', {
          MATERIAL: 'RAW-100',
          BATCH: 'B5',
          MOVE_TYPE: '101',
          PO_NUMBER: '1',
          ENTRY_QNT: '2',
        }),
      ),
    ).rejects.toThrow()
    const got = await hook.waitFor(2)
    expect(got.map((g) => statusOf(g.body).docnum)).toEqual(['900005', '900005'])
    expect(sim.state.materialDocuments).toHaveLength(1)
  })
})
