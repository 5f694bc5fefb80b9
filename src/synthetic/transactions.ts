/**
 * One synthetic transaction per workflow, through the plant's configured connectors, on the
 * plant's designated test records only (plants.<p>.synthetic). Every effect is taken back:
 * the test receipt is returned to the supplier, holds and blocks are put back as they were,
 * QMS records are cancelled. What cannot be undone on a given ERP is reported as a note.
 */
import type { Quantity } from '../model/quantity.ts'
import type { Bucket } from '../model/stock.ts'
import type { ErpPort, LotRef } from '../workflows/ports/erp.ts'
import type { QmsPort } from '../workflows/ports/qms.ts'
import type { SyntheticErpPort, SyntheticReceipt } from '../workflows/ports/synthetic.ts'
import { expectThat, type StepLedger } from './steps.ts'

export interface TransactionContext {
  readonly plant: string
  readonly runId: string
  /** written into ERP documents and QMS records: marks them as synthetic for a person reading them */
  readonly reference: string
  readonly erp: ErpPort
  readonly qms: QmsPort
  /** undefined when the plant's ERP connector cannot post a test receipt */
  readonly syntheticErp: SyntheticErpPort | undefined
  /** the ERP's own code of the plant (its declared plant mapping), for the raw syntheticErp calls */
  readonly erpPlant?: string
  readonly ledger: StepLedger
  readonly notes: string[]
}

export const RECEIPT = 'supplier-receipt-inspection'
export const IN_PROCESS = 'in-process-quality-check'
export const RELEASE = 'finished-goods-release'
export const COMPLAINT = 'complaint-traceability'

/** A quantity as a decimal string in its unit, for comparing readings of any scale. */
const amount = (q: Quantity | undefined): string =>
  q === undefined || q.units === 0
    ? '0'
    : `${(q.units / 10 ** q.scale).toFixed(q.scale).replace(/\.?0+$/, '')} ${q.uom}`

async function expectStock(
  erp: ErpPort,
  lot: LotRef,
  expected: Partial<Record<Bucket, Quantity>>,
): Promise<string> {
  const reading = await erp.readLotStock(lot)
  const found = Object.fromEntries(
    (['unrestricted', 'qualityInspection', 'blocked'] as const).map((b) => [
      b,
      amount(reading.quantities[b]),
    ]),
  )
  for (const [bucket, n] of Object.entries(found))
    expectThat(
      n === amount(expected[bucket as Bucket]),
      `${lot.material}/${lot.lot}: ${bucket} is ${n}, expected ${amount(expected[bucket as Bucket])}`,
    )
  return Object.entries(found)
    .map(([b, n]) => `${b} ${n}`)
    .join(', ')
}

/**
 * Receipt → QMS inspection lot → accepting usage decision → release posting → (complaint: block
 * the suspect lot, open a nonconformance, unblock) → cancel the QMS lot, return the receipt.
 */
export async function receiptTransaction(
  c: TransactionContext,
  test: { material: string; batch: string; quantity: Quantity; supplier?: string; udCode: string },
  workflows: { receipt: boolean; complaint: boolean },
): Promise<void> {
  const { ledger, erp, qms } = c
  const wf = workflows.receipt ? RECEIPT : COMPLAINT
  const lot: LotRef = { plant: c.plant, material: test.material, lot: test.batch }
  // the synthetic port is the bare connector (no egress mapping): it gets the ERP's plant code
  const input = {
    reference: c.reference,
    lot: { ...lot, plant: c.erpPlant ?? lot.plant },
    quantity: test.quantity,
    supplier: test.supplier,
  }
  const sErp = c.syntheticErp
  if (!sErp) {
    ledger.fail(
      wf,
      'erp.post-goods-receipt',
      'the plant’s ERP connector cannot post a test goods receipt (no synthetic support on this ERP kind)',
    )
    return
  }
  const receipt = await ledger.run(
    wf,
    'erp.post-goods-receipt',
    () => sErp.postGoodsReceipt(input),
    (r) => `material document ${r.document}, ERP inspection lot ${r.inspectionLot || 'none'}`,
  )
  if (!receipt) return
  let released = false
  const qmsLot = await ledger.run(
    wf,
    'qms.create-inspection-lot',
    () =>
      qms.createInspectionLot({
        idempotencyKey: `synthetic:${c.runId}:inspection`,
        plant: c.plant,
        material: test.material,
        lot: test.batch,
        quantity: test.quantity,
        origin: '01',
        ...(test.supplier ? { supplier: test.supplier } : {}),
      }),
    (r) => `QMS inspection lot ${r.record.id}`,
  )
  const forward = async () => {
    if (!qmsLot) return false
    const read = await ledger.run(wf, 'qms.read-inspection-lot', async () => {
      const l = await qms.getInspectionLot(qmsLot.value.record.id)
      expectThat(l !== null, `QMS inspection lot ${qmsLot.value.record.id} cannot be read back`)
      return l!
    })
    if (!read) return false
    const erpLot = receipt.value.inspectionLot
    const ud = await ledger.run(wf, 'erp.record-usage-decision', async () => {
      expectThat(
        erpLot !== '',
        `the ERP opened no inspection lot for ${test.material}: is the test material inspection-relevant?`,
      )
      return erp.recordUsageDecision({
        idempotencyKey: `synthetic:${c.runId}:ud`,
        plant: c.plant,
        inspectionLot: erpLot,
        valuation: 'accepted',
        code: test.udCode,
        decidedBy: 'qualink-synthetic',
        reference: qmsLot.value.record.id,
      })
    })
    if (!ud) return false
    const posted = await ledger.run(
      wf,
      'erp.post-stock-disposition',
      () =>
        erp.postStockDisposition({
          idempotencyKey: `synthetic:${c.runId}:post`,
          inspectionLot: erpLot,
          lot,
          lines: [{ bucket: 'release', quantity: test.quantity }],
        }),
      (r) => `documents ${r.documents.join(', ') || 'none'}`,
    )
    if (!posted) return false
    released = true
    const stock = await ledger.run(wf, 'erp.read-lot-stock', () =>
      expectStock(erp, lot, { unrestricted: test.quantity }),
    )
    return stock !== undefined
  }
  const ok = await forward()
  if (workflows.complaint) await complaintSteps(c, lot, test.quantity, ok && released)
  if (qmsLot)
    await ledger.run(wf, 'qms.cancel-inspection-lot', () =>
      qms.cancelInspectionLot({ id: qmsLot.value.record.id, reason: `synthetic run ${c.runId} done` }),
    )
  const returned = await ledger.run(
    wf,
    'erp.return-goods-receipt',
    () =>
      sErp.returnGoodsReceipt({
        ...input,
        receipt: receipt.value as SyntheticReceipt,
        from: released ? 'unrestricted' : 'qualityInspection',
      }),
    (r) => `return delivery ${r.document}`,
  )
  if (returned) {
    await ledger.run(wf, 'erp.verify-no-stock-left', () => expectStock(erp, lot, {}))
    c.notes.push(
      `${c.plant}: test receipt ${receipt.value.document} taken back by return delivery ${returned.value.document}; ` +
        'the documents, the returned quantity and the ERP inspection lot’s usage decision stay in its history ' +
        '(a receipt with usage-decision postings cannot be cancelled)',
    )
  }
}

async function complaintSteps(c: TransactionContext, lot: LotRef, quantity: Quantity, haveStock: boolean) {
  const { ledger, erp, qms } = c
  if (!haveStock) {
    ledger.skip(COMPLAINT, 'erp.block-suspect-lot', 'no released test stock to block')
    return
  }
  const transfer = (from: Bucket, to: Bucket, n: string) => () =>
    erp.transferStock({
      idempotencyKey: `synthetic:${c.runId}:${n}`,
      lot,
      from,
      to,
      quantity,
      reason: c.reference,
    })
  const blocked = await ledger.run(
    COMPLAINT,
    'erp.block-suspect-lot',
    transfer('unrestricted', 'blocked', 'block'),
  )
  const nc = blocked
    ? await ledger.run(
        COMPLAINT,
        'qms.open-nonconformance',
        () =>
          qms.openNonconformance({
            idempotencyKey: `synthetic:${c.runId}:complaint-nc`,
            plant: c.plant,
            title: `${c.reference}: complaint traceability`,
            severity: 'minor',
            lot: lot.lot,
          }),
        (r) => `nonconformance ${r.record.id}`,
      )
    : undefined
  if (nc)
    await ledger.run(COMPLAINT, 'qms.cancel-nonconformance', () =>
      qms.setNonconformanceStatus({ id: nc.value.record.id, status: 'cancelled' }),
    )
  if (blocked) await ledger.run(COMPLAINT, 'erp.unblock-lot', transfer('blocked', 'unrestricted', 'unblock'))
}

/** Hold the test production order, open a nonconformance, cancel it, release the hold. */
export async function inProcessTransaction(c: TransactionContext, order: string | undefined): Promise<void> {
  const { ledger, erp, qms } = c
  if (!order) {
    ledger.fail(
      IN_PROCESS,
      'erp.hold-production-order',
      `no synthetic.productionOrder designated for ${c.plant}`,
    )
    return
  }
  const held = await ledger.run(
    IN_PROCESS,
    'erp.hold-production-order',
    () =>
      erp.setProductionOrderHold({
        idempotencyKey: `synthetic:${c.runId}:hold`,
        plant: c.plant,
        order,
        onHold: true,
        reason: c.reference,
      }),
    (r) => (r.changed ? `order ${order} on hold` : `order ${order} already was on hold: left on hold`),
  )
  if (!held) return
  const nc = await ledger.run(
    IN_PROCESS,
    'qms.open-nonconformance',
    () =>
      qms.openNonconformance({
        idempotencyKey: `synthetic:${c.runId}:in-process-nc`,
        plant: c.plant,
        title: `${c.reference}: in-process check of order ${order}`,
        severity: 'minor',
      }),
    (r) => `nonconformance ${r.record.id}`,
  )
  if (nc)
    await ledger.run(IN_PROCESS, 'qms.cancel-nonconformance', () =>
      qms.setNonconformanceStatus({ id: nc.value.record.id, status: 'cancelled' }),
    )
  if (held.value.changed)
    await ledger.run(IN_PROCESS, 'erp.release-production-order-hold', () =>
      erp.setProductionOrderHold({
        idempotencyKey: `synthetic:${c.runId}:unhold`,
        plant: c.plant,
        order,
        onHold: false,
      }),
    )
}

/** Block the test delivery, remove the block as a release does, and put it back as it was. */
export async function releaseTransaction(c: TransactionContext, delivery: string | undefined): Promise<void> {
  const { ledger, erp } = c
  if (!delivery) {
    ledger.fail(RELEASE, 'erp.set-delivery-block', `no synthetic.delivery designated for ${c.plant}`)
    return
  }
  const block = (blocked: boolean, n: string) => () =>
    erp.setDeliveryBlock({ idempotencyKey: `synthetic:${c.runId}:${n}`, plant: c.plant, delivery, blocked })
  const set = await ledger.run(RELEASE, 'erp.set-delivery-block', block(true, 'block'), (r) =>
    r.changed ? `delivery ${delivery} blocked` : `delivery ${delivery} already was blocked`,
  )
  if (!set) return
  const removed = await ledger.run(RELEASE, 'erp.remove-delivery-block', block(false, 'release'))
  // put back what was there before the run: blocked if it already was
  if (removed && !set.value.changed)
    await ledger.run(RELEASE, 'erp.restore-delivery-block', block(true, 'restore'))
}
