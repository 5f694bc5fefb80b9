/**
 * `qualink adopt` from a qualink.yaml (adoptFromConfig, what the CLI runs): the plant's connectors
 * are built from the configuration and read the S/4 and QMS simulators; `--erp-plant` keeps the
 * ERP's other plants out; an unconfigured plant is refused naming `--plant` before anything is
 * read; a plant on ECC over SOAP is read through BAPI_INSPLOT_GETLIST, one on ECC over IDoc is
 * refused. Dry runs only: the events' way into Qualink is tested in adoption.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { goodsReceiptXml, soapCall } from '../../simulators/erp-ecc/soap-test-calls.ts'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { AppendEvents } from '../../src/adoption/adopt.ts'
import { adoptFromConfig } from '../../src/adoption/from-config.ts'
import { loadConfig } from '../../src/config/load.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { TempDir } from '../config/fixture.ts'
import { type SyntheticSims, startSyntheticSims, syntheticDoc } from '../synthetic/fixture.ts'

let sims: SyntheticSims
let tmp: TempDir
const neverAppend: AppendEvents = async () => {
  throw new Error('a dry run must not append')
}

beforeEach(async () => {
  sims = await startSyntheticSims()
  tmp = new TempDir()
  // one receipt in QI in ERP plant P100, one in ERP plant 2000 (another Qualink plant's)
  for (const [batch, plant] of [
    ['CFG-1', 'P100'],
    ['CFG-2', '2000'],
  ] as const) {
    const gr = goodsReceipt(batch, '5', '', 'TEST-RAW') as {
      to_MaterialDocumentItem: Array<{ Plant: string }>
    }
    gr.to_MaterialDocumentItem[0]!.Plant = plant
    const r = await s4Client(sims.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)
    expect(r.status).toBe(201)
  }
})
afterEach(async () => {
  await sims.close()
  tmp.remove()
})

describe('qualink adopt from a configuration', () => {
  it('reads the plant through its configured connectors; --erp-plant keeps the ERP’s other plants out', async () => {
    const loaded = loadConfig(
      tmp.write('qualink.yaml', syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })),
      {},
    )
    const documents = sims.erp.state.counts.materialDocuments
    const run = (erpPlant?: string) =>
      adoptFromConfig(loaded, {
        plant: 'P100',
        actor: 'cli:tester',
        dryRun: true,
        append: neverAppend,
        env: {},
        ...(erpPlant ? { erpPlant } : {}),
      })

    const all = await run()
    expect(all.items.map((i) => [i.subject, i.kind, i.outcome])).toEqual([
      ['CFG-1', 'receipt', 'would-adopt'],
      ['CFG-2', 'receipt', 'would-adopt'],
    ])
    const own = await run('P100')
    expect(own).toMatchObject({ plant: 'P100', dryRun: true, adopted: 0, leftAlone: 0 })
    expect(own.items.map((i) => [i.subject, i.eventType])).toEqual([['CFG-1', 'erp.goods_receipt.posted.v1']])
    expect(own.items[0]!.eventId).toBe(
      `receipt-${[...sims.erp.model.lots.values()].find((l) => l.Batch === 'CFG-1')!.InspectionLot}`,
    )
    expect(sims.erp.state.counts.materialDocuments).toBe(documents)
    expect(sims.qms.model.lots.size).toBe(0)
  })

  it("without --erp-plant, reads the ERP plant the connector's plant mapping declares; the events are in P100", async () => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
    const p100 = (doc.plants as Record<string, Record<string, unknown>>).P100!
    // ERP plant 2000 is P100 here: its receipt is adopted, the one of ERP plant P100 is not read
    p100.idMapping = { erp: { entities: ['plant'], unknown: 'reject', plants: { '2000': 'P100' } } }
    // the events as they would go to POST /v1/events (collected here instead of sent)
    const sent: CloudEvent[] = []
    const report = await adoptFromConfig(loadConfig(tmp.write('qualink.yaml', doc), {}), {
      plant: 'P100',
      actor: 'cli:tester',
      dryRun: false,
      append: async (events) => {
        sent.push(...events)
        return events.map(() => ({ duplicate: false }))
      },
      env: {},
    })
    expect(report.items.map((i) => [i.subject, i.kind, i.outcome])).toEqual([['CFG-2', 'receipt', 'adopted']])
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({
      plant: 'P100',
      data: { lot: { id: 'CFG-2', material: 'TEST-RAW', plant: 'P100' } },
    })
  })

  it('refuses a plant on ECC over IDoc before reading anything, naming the connector and what it lacks', async () => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
    // the plant's ERP is ECC over IDoc (the S/4 simulator's address stands in: nothing may be read)
    ;(doc.connectors as Record<string, unknown>).erp = {
      kind: 'erp/sap-ecc-idoc',
      config: { baseUrl: sims.erp.url, statusDir: tmp.dir, egress: { timeoutMs: 2000 } },
    }
    const requests = sims.erp.state.http.requests
    const err = await adoptFromConfig(loadConfig(tmp.write('qualink.yaml', doc), {}), {
      plant: 'P100',
      actor: 'cli:tester',
      dryRun: false,
      append: neverAppend,
      env: {},
    }).catch((e: unknown) => e)
    expect(isQualinkError(err) && err.code).toBe('QLK_CONFIG_INVALID')
    const problems = isQualinkError(err) ? err.errors : []
    expect(problems.map((p) => p.path)).toEqual(['/plants/P100/erp'])
    expect(problems[0]!.message).toContain(
      "connector 'erp' (erp/sap-ecc-idoc) cannot list open inspection lots",
    )
    expect(problems[0]!.message).toContain('offers no inspection-lot or production-order read')
    expect(sims.erp.state.http.requests).toBe(requests)
  })

  it('reads a plant on ECC over SOAP through BAPI_INSPLOT_GETLIST (no longer refused)', async () => {
    const ecc = await startErpEcc({
      port: 0,
      materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } },
    })
    try {
      const gr = await soapCall(
        ecc.url,
        'BAPI_GOODSMVT_CREATE',
        goodsReceiptXml('RAW-100', 'ECC-1', '5', 'KG', 'P100'),
      )
      expect(gr.status).toBe(200)
      const doc = syntheticDoc({ erp: ecc.url, qms: sims.qms.url })
      ;(doc.connectors as Record<string, unknown>).erp = {
        kind: 'erp/sap-ecc-soap',
        config: { baseUrl: ecc.url, egress: { timeoutMs: 2000 } },
      }
      const report = await adoptFromConfig(loadConfig(tmp.write('qualink.yaml', doc), {}), {
        plant: 'P100',
        actor: 'cli:tester',
        dryRun: true,
        append: neverAppend,
        env: {},
        erpPlant: 'P100',
      })
      expect(report.items.map((i) => [i.subject, i.kind, i.outcome])).toEqual([
        ['ECC-1', 'receipt', 'would-adopt'],
      ])
      expect(report.items[0]!.eventId).toBe(`receipt-${ecc.state.inspectionLots[0]!.number}`)
    } finally {
      await ecc.close()
    }
  })

  it('refuses a plant that is not configured, naming --plant', async () => {
    const loaded = loadConfig(
      tmp.write('qualink.yaml', syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })),
      {},
    )
    const err = await adoptFromConfig(loaded, {
      plant: 'P999',
      actor: 'cli:tester',
      dryRun: true,
      append: neverAppend,
      env: {},
    }).catch((e: unknown) => e)
    expect(isQualinkError(err) && err.code).toBe('QLK_CONFIG_INVALID')
    expect(isQualinkError(err) && err.errors.map((p) => p.path)).toEqual(['--plant'])
  })

  it('refuses a plant mapping ids through the xref table when no identity map is given, before reading', async () => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
    const p100 = (doc.plants as Record<string, Record<string, unknown>>).P100!
    p100.idMapping = { qms: { entities: ['material'], unknown: 'reject', system: 'qms-cloud' } }
    const requests = sims.erp.state.http.requests
    const err = await adoptFromConfig(loadConfig(tmp.write('qualink.yaml', doc), {}), {
      plant: 'P100',
      actor: 'cli:tester',
      dryRun: true,
      append: neverAppend,
      env: {},
    }).catch((e: unknown) => e)
    expect(isQualinkError(err) && err.code).toBe('QLK_CONFIG_INVALID')
    expect(isQualinkError(err) && err.errors).toEqual([
      {
        path: '/plants/P100/idMapping',
        message: 'plant P100 maps ids of qms-cloud through the identity map, which this process cannot read',
      },
    ])
    expect(sims.erp.state.http.requests).toBe(requests)
  })
})
