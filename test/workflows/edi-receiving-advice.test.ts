/**
 * The 861 after the usage decision, by a workflow step (issue 11 item 5): a goods receipt from
 * the S/4 simulator, the QMS simulator's decision by webhook, and the edi-receiving-advice
 * workflow beside supplier receipt inspection, on both dialects. The supplier of the receipt is a
 * trading partner, so its acceptance certificate lands in the outbound folder with the decided
 * accepted and rejected quantities; a retried step resends the same interchange (same control
 * number) instead of drawing a new one; a supplier without EDI gets nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { type X12AdviceConfig, x12ReceivingAdvicePort } from '../../src/connectors/edi/x12/advice-port.ts'
import { parseX12 } from '../../src/connectors/edi/x12/parser.ts'
import { ediReceivingAdvice } from '../../src/workflows/edi-receiving-advice.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const partner = {
  id: 'SUP-7',
  qualifier: 'ZZ',
  interchangeId: 'SUP7EDI',
  applicationId: 'SUP7EDI',
  usage: 'T' as const,
  rejectedConditionCode: '07',
}
const config = (dir: string, partners: X12AdviceConfig['partners'] = { 'SUP-7': partner }) => ({
  self: { qualifier: 'ZZ', interchangeId: 'QUALINKP100', applicationId: 'QUALINKP100' },
  outboundDir: path.join(dir, 'edi-out'),
  partners,
})

describe.each(DIALECTS)('861 receiving advice after the usage decision on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection(), ediReceivingAdvice((plant) => ({ send861: plant === 'P100' }))],
    ports: (systems) => ({ edi: x12ReceivingAdvicePort(systems.store, config(systems.db.dir)) }),
  }))
  const runOf = async (key: string) => (await hub.store.engine.listRuns(ALL, { key, limit: 5 }))[0]

  it('writes the acceptance certificate to the supplier once the QMS decided', async () => {
    await receiveGoods(hub.erp, 'B1', '100')
    const lot = await inspectionLotOf(hub.qms, 'B1')
    hub.qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('861:B1'))?.status === 'completed', 45_000)
    const out = config(hub.db.dir).outboundDir
    expect(readdirSync(out)).toEqual(['861-SUP-7-000000001.x12'])
    const x = parseX12(readFileSync(path.join(out, '861-SUP-7-000000001.x12')))
    expect(x).toMatchObject({ sender: 'QUALINKP100', receiver: 'SUP7EDI', controlNumber: '000000001' })
    const body = x.groups[0]!.transactions[0]!.body
    const seg = (id: string) => body.find((s) => s.id === id)?.elements
    // 60 used as is are accepted; 30 to rework and 10 scrapped are rejected (RCD08 from the partner's guide)
    expect(seg('RCD')).toEqual(['RCD', '1', '60.000', 'KG', '', '', '40.000', 'KG', '07'])
    expect(seg('LIN')).toEqual(['LIN', '', 'BP', 'RAW-100', 'LT', 'B1'])
    expect((await runOf('861:B1'))!.result).toMatchObject({ sent: true, controlNumber: 1, resent: false })
    // the receipt workflow ran to its end beside it
    await until(async () => (await runOf('B1'))?.status === 'completed', 45_000)
  })

  it('a retried step resends the same interchange; no EDI supplier, nothing sent', async () => {
    await receiveGoods(hub.erp, 'B2', '100')
    const edi = x12ReceivingAdvicePort(hub.store, config(hub.db.dir))
    const input = {
      idempotencyKey: 'run-x/send-861',
      plant: 'P100',
      lot: 'B2',
      decision: {
        inspectionLot: 'QL-1',
        code: 'A1',
        stockPostings: [{ code: 'RELEASE' as const, quantity: { units: 100_000, scale: 3, uom: 'KG' } }],
      },
    }
    await until(async () => (await hub.store.listEvents(ALL, { subject: 'B2', limit: 1 })).length > 0)
    const first = await edi.sendReceivingAdvice(input)
    const again = await edi.sendReceivingAdvice(input)
    expect(first).toMatchObject({ sent: true, controlNumber: 1, resent: false })
    expect(again).toMatchObject({ sent: true, controlNumber: 1, resent: true })
    const out = config(hub.db.dir).outboundDir
    expect(readdirSync(out)).toEqual(['861-SUP-7-000000001.x12'])
    const other = x12ReceivingAdvicePort(hub.store, config(path.join(hub.db.dir, 'x'), {}))
    expect(await other.sendReceivingAdvice({ ...input, idempotencyKey: 'run-y/send-861' })).toEqual({
      sent: false,
      reason: 'supplier SUP-7 of lot B2 trades no EDI',
    })
    expect(existsSync(path.join(hub.db.dir, 'x', 'edi-out'))).toBe(false)
  })
})
