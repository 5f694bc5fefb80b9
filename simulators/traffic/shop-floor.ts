/**
 * The shop floor and the lab in the plant day: the MES completes operations (raw lot → finished
 * lot, torque measured, now and then out of tolerance), the quality engineer dispositions the
 * nonconformances that follow, the LIMS drops result files (some failing), and the packing line
 * verifies finished lots for release.
 */
import type { LimsSim } from '../lims/server.ts'
import type { MesSim } from '../mes/server.ts'
import { audit, CUSTOMERS, type Day, kg } from './day.ts'

/** Production orders the demo ERP is seeded with; the MES completes operations on them. */
export const DEMO_ORDERS = Array.from({ length: 40 }, (_, i) => `PO-${1001 + i}`)

export async function operation(d: Day, mes: MesSim | undefined): Promise<void> {
  const raw = d.rawLots.at(-1)
  if (!raw) return
  const fg = `FG-${d.run}-${String(d.finished.length + 1).padStart(4, '0')}`
  d.finished.push(fg)
  // Orders come from the ERP's seeded pool (DEMO_ORDERS), four completions each.
  const order = DEMO_ORDERS[Math.floor(d.finished.length / 4) % DEMO_ORDERS.length]!
  const torque = d.tick % 15 === 0 ? 13.6 : 12 + (d.tick % 7) / 10 // now and then above the 13 Nm limit
  const consumed = [{ lot: raw, material: 'RAW-100', quantity: '25', unit: 'KG' }]
  const produced = [{ lot: fg, material: 'FG-900', quantity: '40', unit: 'PC' }]
  const measurements = [
    { characteristic: 'torque', value: torque, unit: 'Nm', lowerLimit: 11, upperLimit: 13 },
  ]
  if (mes) {
    await mes.completeOperation({
      orderId: order,
      line: 'L1',
      operation: '0010',
      consumed,
      produced,
      measurements,
    })
  } else {
    await d.post(
      'mes.operation.completed.v1',
      order,
      {
        operation: { productionOrder: order, number: '0010', workCenter: 'L1' },
        plant: d.plant,
        measurements: [{ characteristic: 'TORQUE', value: String(torque), unit: 'NM' }],
        consumed: [{ lot: raw, material: 'RAW-100', quantity: kg(25) }],
        produced: [{ lot: fg, material: 'FG-900', quantity: { units: 40, scale: 0, uom: 'PC' } }],
        audit: audit('mes-p100'),
      },
      'urn:mes:p100',
    )
  }
  d.stats.operations!++
  if (torque > 13) d.pendingDispositions.push({ lot: fg, due: d.tick + 8 })
}

/** The quality engineer works out-of-tolerance nonconformances: contain, review, disposition. */
export async function disposition(d: Day): Promise<void> {
  const next = d.pendingDispositions[0]
  const qms = d.o.qms
  if (!next || next.due > d.tick || !qms) return
  const list = (await (await fetch(`${qms.url}/api/v1/nonconformances`)).json()) as
    | Array<{ id: string; batch?: string; status: string }>
    | { items?: Array<{ id: string; batch?: string; status: string }> }
  const nc = (Array.isArray(list) ? list : (list.items ?? [])).find((x) => x.batch === next.lot)
  if (!nc) return // not opened yet: try again next tick
  d.pendingDispositions.shift()
  // The disposition with its quantity split reaches Qualink as the QMS's own signed webhook.
  for (const status of ['CONTAINED', 'UNDER_REVIEW', 'DISPOSITIONED']) {
    await fetch(`${qms.url}/api/v1/nonconformances/${nc.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        status === 'DISPOSITIONED'
          ? {
              status,
              dispositionedBy: 'qe.on.duty',
              dispositions: [{ disposition: 'REWORK', quantity: '40', unit: 'PC' }],
            }
          : { status },
      ),
    })
  }
  d.stats.dispositions!++
}

export async function labResults(d: Day, lims: LimsSim): Promise<void> {
  const lot = d.finished.at(-1)
  if (!lot) return
  const value = d.tick % 24 === 0 ? '61.2' : (57 + (d.tick % 5) * 0.4).toFixed(1) // spec 55-60 HRC
  await lims.writeResults([
    {
      sampleId: `LS-${lot}`,
      lot,
      material: 'FG-900',
      analysis: 'hardness',
      value,
      unit: 'HRC',
      specMin: '55',
      specMax: '60',
      analyst: 'lab.tech',
      timestamp: new Date().toISOString(),
    },
  ])
  d.stats.labFiles!++
}

/**
 * Finished goods release: the ERP holds an outbound delivery for the lot under a quality block,
 * the packing line verifies the lot, and QA signs the final approval in the QMS. Together with
 * the LIMS file (some failing) that lets the release workflow lift the block, or keep it.
 */
export async function pack(d: Day): Promise<void> {
  const lot = d.finished.at(-1)
  const { erp } = d.o
  if (!lot || !erp) return
  const { plant, run, stats } = d
  const delivery = `81${run.slice(-5)}${String(stats.packed).padStart(3, '0')}`
  erp.createDelivery(
    {
      DeliveryDocument: delivery,
      ShipToParty: CUSTOMERS[stats.packed! % 3]!,
      items: [{ Material: 'FG-900', Plant: plant, Batch: lot, quantity: '40' }],
    },
    '01',
  )
  await d.post(
    'mes.packaging.verified.v1',
    lot,
    {
      lot,
      plant,
      delivery,
      checks: [
        { name: 'label', passed: true },
        { name: 'count', passed: true },
      ],
      verified: true,
      audit: audit('mes-p100'),
    },
    'urn:mes:p100',
  )
  await d.post(
    'qms.usage_decision.made.v1',
    lot,
    {
      inspectionLot: `04${run.slice(-6)}${String(stats.packed).padStart(4, '0')}`,
      plant,
      lot,
      code: 'A1',
      valuation: 'accepted',
      stockPostings: [{ code: 'RELEASE', quantity: { units: 40, scale: 0, uom: 'PC' } }],
      audit: audit('qms'),
    },
    'urn:qms:cloud',
  )
  stats.packed!++
}
