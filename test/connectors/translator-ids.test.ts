/** Identity mapping in each translator and in reverse on egress: one mechanism, src/mapping/id-mapping.ts. */
import { describe, expect, it } from 'vitest'
import { crmWebhookTranslator } from '../../src/connectors/crm/webhook/translator.ts'
import { limsCsvTranslator } from '../../src/connectors/lims/csv/translator.ts'
import { mesTranslator } from '../../src/connectors/mes/mqtt/translator.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { type IdMappingSettings, inboundIds, outboundIds } from '../../src/mapping/id-mapping.ts'
import { memoryXrefResolver } from '../../src/mapping/xref.ts'
import type { StoredRawDelivery } from '../../src/store/types.ts'

const row = (system: string, entityType: string, externalCode: string, enterpriseId: string) => ({
  plant: 'P1',
  system,
  entityType,
  externalCode,
  enterpriseId,
})
const xref = memoryXrefResolver([
  row('src', 'lot', 'QB-1', 'B1'),
  row('src', 'material', 'QM-1', 'M-1'),
  row('src', 'customer', 'CUST-9', 'C-1'),
])
const ids = (
  unknown: 'reject' | 'pass' = 'reject',
  entities: IdMappingSettings['entities'] = ['lot', 'material', 'customer'],
): IdMappingSettings => ({
  system: 'src',
  entities,
  unknown,
})
const raw = (body: unknown): StoredRawDelivery =>
  ({
    seq: 1,
    source: 'src',
    deliveryId: 'd1',
    plant: 'P1',
    headers: {},
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    receivedAtMs: 0,
  }) as unknown as StoredRawDelivery

async function parkedAt(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  return isQualinkError(e) && e.code === 'QLK_XREF_MISSING' ? e.errors[0]?.path : undefined
}

describe('identity mapping in the translators (one mechanism, src/mapping/id-mapping.ts)', () => {
  it('QMS webhooks: the batch of a usage decision is mapped; an unknown one parks at its field', async () => {
    const ud = (batch: string) => ({
      id: 'w1',
      type: 'usage_decision.made',
      occurredAt: '2025-03-01T00:00:00Z',
      data: {
        inspectionLotId: 'QL-1',
        inspectionLot: { id: 'QL-1', batch, plant: 'P1', quantity: '10', unit: 'KG' },
        decision: 'ACCEPT',
        code: 'A1',
        dispositions: [],
        decidedBy: 'qa',
        decidedAt: '2025-03-01T00:00:00Z',
      },
    })
    const [e] = await qmsWebhookTranslator('src', ids()).translate(raw(ud('QB-1')), xref)
    expect([e!.subject, (e!.data as { lot: string }).lot]).toEqual(['B1', 'B1'])
    expect(await parkedAt(qmsWebhookTranslator('src', ids()).translate(raw(ud('QB-2')), xref))).toBe(
      '/data/inspectionLot/batch',
    )
    const [passed] = await qmsWebhookTranslator('src', ids('pass')).translate(raw(ud('QB-2')), xref)
    expect(passed!.subject).toBe('QB-2')
    // without settings nothing is mapped
    const [plain] = await qmsWebhookTranslator('src').translate(raw(ud('QB-1')), xref)
    expect(plain!.subject).toBe('QB-1')
  })

  it('LIMS files: the lot is mapped per sample; an unknown one parks naming its line', async () => {
    const csv = (lot: string) =>
      'sample_id,lot,material,analysis,value,unit,spec_min,spec_max,result,analyst,timestamp\n' +
      `S1,${lot},QM-1,PH,7.1,pH,6,8,PASS,ann,2025-03-01T00:00:00Z\n`
    const [e] = await limsCsvTranslator('src', ids()).translate(raw(csv('QB-1')), xref)
    expect([e!.subject, (e!.data as { lot: string }).lot]).toEqual(['B1', 'B1'])
    expect(await parkedAt(limsCsvTranslator('src', ids()).translate(raw(csv('QB-9')), xref))).toBe(
      '/lines/2/lot',
    )
  })

  it('CRM complaints: customer, material and batch are mapped', async () => {
    const body = {
      id: 'c1',
      type: 'complaint.created',
      occurredAt: '2025-03-01T00:00:00Z',
      data: { caseId: 'CASE-1', customer: 'CUST-9', material: 'QM-1', batch: 'QB-1', severity: 'HIGH' },
    }
    const [e] = await crmWebhookTranslator('src', ids()).translate(raw(body), xref)
    expect((e!.data as { complaint: unknown }).complaint).toMatchObject({
      customer: 'C-1',
      material: 'M-1',
      lots: ['B1'],
    })
    expect(
      await parkedAt(
        crmWebhookTranslator('src', ids()).translate(
          raw({ ...body, data: { ...body.data, customer: 'X' } }),
          xref,
        ),
      ),
    ).toBe('/data/customer')
  })

  it('MES: mapMaterials is the same mechanism (material only); settings may add lots', async () => {
    const msg = {
      messageId: 'm1',
      line: 'L1',
      operation: '0010',
      orderId: 'O1',
      completedAt: '2025-03-01T00:00:00Z',
      consumed: [{ lot: 'QB-1', material: 'QM-1', quantity: '1', unit: 'kg' }],
      produced: [],
      measurements: [],
    }
    const consumed = async (t: ReturnType<typeof mesTranslator>) =>
      ((await t.translate(raw(msg), xref))[0]!.data as { consumed: unknown[] }).consumed[0]
    expect(await consumed(mesTranslator({ source: 'src', mapMaterials: true }))).toMatchObject({
      lot: 'QB-1',
      material: 'M-1',
    })
    expect(await consumed(mesTranslator({ source: 'src', ids: ids() }))).toMatchObject({
      lot: 'B1',
      material: 'M-1',
    })
  })

  it('egress: enterprise ids back to the system’s codes; an unknown one refused before sending, or passed', async () => {
    const map = outboundIds({ current: xref }, ids(), 'P1')
    expect(await map('material', 'M-1', '/material')).toBe('QM-1')
    const refused = await map('material', 'M-2', '/lot/material').catch((e: unknown) => e)
    expect(isQualinkError(refused) && [refused.code, refused.errors[0]!.path]).toEqual([
      'QLK_XREF_MISSING',
      '/lot/material',
    ])
    expect(await outboundIds({ current: xref }, ids('pass'), 'P1')('material', 'M-2', '/m')).toBe('M-2')
    // a kind the system shares with us passes unchanged without a lookup
    expect(await inboundIds(xref, ids('reject', ['lot']), 'P1')('material', 'anything', '/m')).toBe(
      'anything',
    )
  })
})
