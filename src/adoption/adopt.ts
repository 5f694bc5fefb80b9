/**
 * Go-live adoption (`qualink adopt`, docs/workflows.md "Go-live adoption"): what a plant's ERP and
 * QMS already have in flight at cut-over becomes canonical events with an `adoption` marker, so
 * the workflows' normal triggers start each run at the right step:
 * - a goods-receipt inspection lot with quantity left in QI → `erp.goods_receipt.posted.v1` (the
 *   receipt run); when the QMS already has an inspection lot for the batch the event names it, and
 *   the run takes it over (waits for its decision, or posts the decision it already has);
 * - a production order on hold with an open nonconformance on its batch →
 *   `mes.operation.completed.v1` without measurements (the in-process run waits for the disposition);
 * - any other open nonconformance → `qms.nonconformance.opened.v1` (recorded in the log).
 * Event ids derive from the ERP/QMS document ids, so adopting twice stores nothing new (ingest
 * deduplicates on source and id). Whatever adoption cannot place safely is listed for a person and
 * left alone: among it what the ports mark `unsettled` (a code without an identity mapping:
 * ports/mapped-adoption.ts) and, from a QMS shared by plants, a nonconformance whose plant cannot
 * be determined (one determined as another plant's is that plant's to adopt).
 */
import type { CloudEvent } from '../contracts/envelope.ts'
import { isQualinkError } from '../contracts/errors.ts'
import { formatDecimal, type Quantity } from '../model/quantity.ts'
import type {
  AdoptionErpPort,
  AdoptionQmsPort,
  OpenErpInspectionLot,
  OpenNonconformance,
  QmsLotWithReference,
} from '../workflows/ports/adoption.ts'
import type { NonconformanceView } from '../workflows/ports/qms.ts'

export type AdoptionKind =
  | 'receipt' // in QI, no QMS lot yet: the run creates it
  | 'receipt-inspecting' // in QI, the QMS lot exists and is undecided: the run waits for its decision
  | 'receipt-decided' // decided in the QMS, not (fully) posted in the ERP: the run posts the decision
  | 'held-order' // on hold with an open nonconformance: the run waits for the disposition
  | 'nonconformance' // open, no hold: recorded
  | 'needs-a-person' // not adopted: why is in `detail`

export interface AdoptionItem {
  readonly kind: AdoptionKind
  /** the batch, production order or nonconformance */
  readonly subject: string
  readonly detail: string
  readonly event?: CloudEvent
}

export interface AdoptionInput {
  /** the Qualink plant (qualink.yaml `plants`) */
  readonly plant: string
  readonly erp: AdoptionErpPort
  readonly qms: AdoptionQmsPort
  /** who adopts: written into every event's `audit.operator` */
  readonly actor: string
  readonly now: Date
  /** the ERP's own plant code, when the plant's ERP serves other plants as well */
  readonly erpPlant?: string
  /**
   * Every Qualink plant the plant's QMS serves (this one included), when it serves more than one:
   * an open nonconformance is then adopted only when its plant can be determined as this one.
   */
  readonly qmsPlants?: readonly string[]
}

export const ADOPTION_SOURCE_SYSTEM = 'qualink-adopt'

/** What would be (or was) adopted, in order: receipts, held orders, other nonconformances. */
export async function planAdoption(input: AdoptionInput): Promise<AdoptionItem[]> {
  const { plant, erp, qms } = input
  const scope = input.erpPlant ? { plant: input.erpPlant } : {}
  const audit = {
    timestamp: input.now.toISOString(),
    operator: input.actor.slice(0, 128),
    sourceSystem: ADOPTION_SOURCE_SYSTEM,
    approvalStatus: 'not_required',
  }
  const event = (id: string, type: string, subject: string, data: Record<string, unknown>): CloudEvent =>
    ({
      specversion: '1.0',
      id,
      source: `urn:qualink:adopt:${plant}`,
      type,
      subject,
      time: audit.timestamp,
      plant,
      data,
    }) as CloudEvent

  const items: AdoptionItem[] = []
  const openLots = await erp.listOpenInspectionLots(scope)
  const perBatch = new Map<string, number>()
  for (const l of openLots) perBatch.set(batchKey(l), (perBatch.get(batchKey(l)) ?? 0) + 1)
  for (const l of openLots) {
    const found = l.unsettled
      ? []
      : await missingMapping(qms.findInspectionLots({ lot: l.lot, material: l.material }))
    if ('missing' in found) {
      items.push({ kind: 'needs-a-person', subject: l.lot, detail: `in QI: ${found.missing}` })
      continue
    }
    const placed = placeReceipt(l, found, perBatch.get(batchKey(l)) ?? 1)
    if (placed.kind === 'needs-a-person') {
      items.push({ kind: placed.kind, subject: l.lot, detail: placed.detail })
      continue
    }
    items.push({
      kind: placed.kind,
      subject: l.lot,
      detail: placed.detail,
      event: event(`receipt-${l.inspectionLot}`, 'erp.goods_receipt.posted.v1', l.lot, {
        materialDocument: l.materialDocument,
        // the Qualink plant, as every canonical lot: l.plant is the ERP's own code (erpPlant)
        lot: { id: l.lot, material: l.material, plant },
        ...(l.supplier ? { supplier: l.supplier } : {}),
        quantity: l.quantity,
        bucket: 'qualityInspection',
        inspectionLot: l.inspectionLot,
        adoption: placed.qmsLot ? { qmsInspectionLot: placed.qmsLot } : {},
        audit,
      }),
    })
  }

  const open = await qms.listOpenNonconformances()
  const taken = new Set<string>()
  for (const o of await erp.listHeldProductionOrders(scope)) {
    if (o.unsettled) {
      items.push({ kind: 'needs-a-person', subject: o.order, detail: `on hold: ${o.unsettled}` })
      continue
    }
    const ncs = o.lot ? open.filter((n) => n.lot === o.lot) : []
    if (ncs.length !== 1) {
      items.push({
        kind: 'needs-a-person',
        subject: o.order,
        detail:
          ncs.length === 0
            ? `on hold (${o.reason || 'no reason'}) without an open nonconformance on batch ${o.lot || '(none)'}: nothing would release it`
            : `on hold with ${ncs.length} open nonconformances on batch ${o.lot} (${ncs.map((n) => n.id).join(', ')}): which one releases it is a person's call`,
      })
      continue
    }
    const nc = ncs[0]!
    taken.add(nc.id)
    items.push({
      kind: 'held-order',
      subject: o.order,
      detail: `on hold, waits for the disposition of ${nc.id} (batch ${o.lot})`,
      event: event(`hold-${o.order}-${nc.id}`, 'mes.operation.completed.v1', o.order, {
        operation: { productionOrder: o.order, number: 'ADOPT' },
        plant,
        measurements: [],
        consumed: [],
        produced: [],
        adoption: { nonconformance: nc.id, lot: o.lot },
        audit,
      }),
    })
  }
  const ownBatches = new Set(openLots.filter((l) => !l.unsettled).map((l) => l.lot))
  for (const nc of open.filter((n) => !taken.has(n.id))) {
    const shared = input.qmsPlants && input.qmsPlants.length > 1 ? input.qmsPlants : undefined
    const of = shared
      ? await plantOfNonconformance(nc, { qms, plant, plants: shared, ownBatches })
      : { plant }
    // another plant's: that plant's adoption takes it
    if ('plant' in of && of.plant !== plant) continue
    if ('unknown' in of || nc.unsettled) {
      items.push({
        kind: 'needs-a-person',
        subject: nc.id,
        detail: `${nc.status}${nc.lot ? ` on batch ${nc.lot}` : ''}: ${nc.unsettled ?? ('unknown' in of ? of.unknown : '')}`,
      })
      continue
    }
    items.push({
      kind: 'nonconformance',
      subject: nc.id,
      detail: `${nc.status}${nc.lot ? ` on batch ${nc.lot}` : ''}: recorded`,
      event: event(`nc-${nc.id}`, 'qms.nonconformance.opened.v1', nc.lot ?? nc.id, {
        nonconformance: recorded(nc, plant),
      }),
    })
  }
  return items

  function recorded(nc: NonconformanceView, p: string) {
    return {
      id: nc.id,
      plant: p,
      lots: nc.lot ? [nc.lot] : [],
      // The QMS REST API names no defect code; the enterprise taxonomy's catch-all.
      defectCode: 'UNCLASSIFIED',
      severity: nc.severity,
      description: nc.title,
      status: nc.status,
      ...(nc.inspectionLot ? { inspectionLot: nc.inspectionLot } : {}),
      audit,
    }
  }
}

/** A QMS read that failed on a missing identity mapping: why, for the person the item is left to. */
async function missingMapping<T>(read: Promise<T>): Promise<T | { missing: string }> {
  try {
    return await read
  } catch (e) {
    if (!isQualinkError(e) || e.code !== 'QLK_XREF_MISSING') throw e
    return { missing: `${e.errors[0]?.message ?? e.message}; add the mapping and adopt again` }
  }
}

/**
 * The plant of an open nonconformance in a QMS shared by several plants (the QMS's NC names no
 * plant): its inspection lot's plant; else the one plant of the QMS inspection lots of its batch;
 * else this plant when this plant's ERP holds the batch in QI. Anything else is not determined.
 */
async function plantOfNonconformance(
  nc: OpenNonconformance,
  at: {
    readonly qms: AdoptionQmsPort
    readonly plant: string
    readonly plants: readonly string[]
    readonly ownBatches: ReadonlySet<string>
  },
): Promise<{ plant: string } | { unknown: string }> {
  const why: string[] = []
  if (nc.inspectionLot) {
    const l = await missingMapping(at.qms.getInspectionLot(nc.inspectionLot))
    if (l && !('missing' in l) && at.plants.includes(l.plant)) return { plant: l.plant }
    why.push(
      !l
        ? `its inspection lot ${nc.inspectionLot} is not in the QMS`
        : 'missing' in l
          ? `its inspection lot ${nc.inspectionLot}: ${l.missing}`
          : `its inspection lot ${nc.inspectionLot} is in plant '${l.plant}', which the QMS serves for no configured plant`,
    )
  }
  if (nc.lot && !nc.unsettled) {
    const lots = await missingMapping(at.qms.findInspectionLots({ lot: nc.lot }))
    const plants = 'missing' in lots ? [] : [...new Set(lots.map((l) => l.plant))]
    if (plants.length === 1 && at.plants.includes(plants[0]!)) return { plant: plants[0]! }
    if (plants.length === 0 && at.ownBatches.has(nc.lot)) return { plant: at.plant }
    why.push(
      plants.length > 1
        ? `batch ${nc.lot} has QMS inspection lots in plants ${plants.join(', ')}`
        : plants.length === 1
          ? `batch ${nc.lot}'s QMS inspection lots are in plant '${plants[0]}', which the QMS serves for no configured plant`
          : `no QMS inspection lot of batch ${nc.lot}, and this plant's ERP holds no such batch in QI`,
    )
  }
  if (why.length === 0) why.push('it names neither an inspection lot nor a batch')
  return {
    unknown: `the QMS serves plants ${at.plants.join(', ')} and this nonconformance's plant is not determined (${why.join('; ')})`,
  }
}

const batchKey = (l: OpenErpInspectionLot) => `${l.plant}|${l.material}|${l.lot}`

/** Which QMS lot an ERP inspection lot continues, matched by batch and material, then by reference. */
function placeReceipt(
  l: OpenErpInspectionLot,
  qmsLots: readonly QmsLotWithReference[],
  lotsOfBatch: number,
):
  | { kind: 'receipt' | 'receipt-inspecting' | 'receipt-decided'; detail: string; qmsLot?: string }
  | { kind: 'needs-a-person'; detail: string } {
  const left = `${fmt(l.toBePosted)} of ${fmt(l.quantity)} in QI (ERP inspection lot ${l.inspectionLot || 'none'})`
  if (l.unsettled || !l.inspectionLot)
    return { kind: 'needs-a-person', detail: `${left}: ${l.unsettled ?? 'the ERP names no inspection lot'}` }
  const live = qmsLots.filter((q) => q.material === l.material && q.status !== 'cancelled')
  // An earlier integration may have written the ERP lot into the QMS lot's reference, or the QMS lot into the ERP lot's text.
  const named = live.filter((q) => refersTo(q.externalRef, l.inspectionLot) || l.text === q.id)
  const match = named.length === 1 ? named[0] : live.length === 1 ? live[0] : undefined
  if (live.length > 1 && !match)
    return {
      kind: 'needs-a-person',
      detail: `${left}: the QMS has ${live.length} inspection lots for the batch (${live.map((q) => q.id).join(', ')})`,
    }
  if (!match) {
    if (qmsLots.some((q) => q.material === l.material))
      return {
        kind: 'needs-a-person',
        detail: `${left}: its QMS inspection lot was cancelled; the stock stays in QI until someone decides`,
      }
    return { kind: 'receipt', detail: `${left}: the QMS inspection lot will be created` }
  }
  if (lotsOfBatch > 1)
    return {
      kind: 'needs-a-person',
      detail: `${left}: ${lotsOfBatch} open ERP inspection lots of the batch share QMS lot ${match.id}; how its decision splits over them is a person's call`,
    }
  if (match.status === 'usage_decision')
    return {
      kind: 'receipt-decided',
      detail: `${left}: decided in QMS lot ${match.id}, the decision will be posted`,
      qmsLot: match.id,
    }
  return {
    kind: 'receipt-inspecting',
    detail: `${left}: waits for the decision of QMS lot ${match.id}`,
    qmsLot: match.id,
  }
}

const refersTo = (reference: string, erpLot: string) => reference.split(/[^A-Za-z0-9]+/).includes(erpLot)

const fmt = (q: Quantity) => `${formatDecimal(q)} ${q.uom}`

/** Stores events (atomically per call) and says, per event in order, whether it was already stored. */
export type AppendEvents = (events: CloudEvent[]) => Promise<ReadonlyArray<{ readonly duplicate: boolean }>>

export interface AdoptionReport {
  readonly plant: string
  readonly dryRun: boolean
  readonly items: ReadonlyArray<
    Omit<AdoptionItem, 'event'> & {
      readonly eventId?: string
      readonly eventType?: string
      /** `adopted`: stored now; `already-adopted`: an earlier adopt stored it; `would-adopt`: dry run */
      readonly outcome: 'adopted' | 'already-adopted' | 'would-adopt' | 'left-alone'
    }
  >
  readonly adopted: number
  readonly alreadyAdopted: number
  readonly leftAlone: number
}

/** Plans, and unless `dryRun` stores the plan's events in one call; the report lists every item. */
export async function runAdoption(
  input: AdoptionInput,
  opts: { readonly dryRun: boolean; readonly append: AppendEvents },
): Promise<AdoptionReport> {
  const items = await planAdoption(input)
  const events = items.flatMap((i) => (i.event ? [i.event] : []))
  const results = opts.dryRun || events.length === 0 ? [] : await opts.append(events)
  let n = 0
  const out: AdoptionReport['items'] = items.map(({ event, ...i }) => {
    if (!event) return { ...i, outcome: 'left-alone' }
    const r = results[n++]
    const outcome = opts.dryRun ? 'would-adopt' : r?.duplicate ? 'already-adopted' : 'adopted'
    return { ...i, eventId: event.id, eventType: event.type, outcome }
  })
  return {
    plant: input.plant,
    dryRun: opts.dryRun,
    items: out,
    adopted: out.filter((i) => i.outcome === 'adopted').length,
    alreadyAdopted: out.filter((i) => i.outcome === 'already-adopted').length,
    leftAlone: out.filter((i) => i.outcome === 'left-alone').length,
  }
}
