/**
 * erp/erpnext: the ErpPort over Frappe REST (`/api/resource/<Doctype>`, token auth;
 * quality-domain.md §2.1). ERPNext has no stock types: holds are warehouses, so a bucket is a
 * configured warehouse and every stock effect is a submitted Stock Entry (Material Transfer) —
 * a lot is held by a transfer into the hold (blocked) warehouse. The usage decision is the Quality
 * Inspection's status and the stock reading comes from the Stock Ledger (quality.ts).
 *
 * Idempotency: the reference (same digest as erp/sap-s4) goes into the Stock Entry's `remarks` and
 * is looked up with a `filters` query before posting and after an ambiguous failure. Frappe, like
 * the simulator, never deduplicates. A usage decision's posting also names its Quality Inspection
 * on each row (Stock Entry Detail `quality_inspection`; the entry's `inspection_required` is left
 * off, so ERPNext's own inspection checks do not apply) and, like erp/sap-s4 reading the lot's UD
 * postings, posts only what rows naming that inspection have not moved yet: a decision the plant's
 * previous integration posted in part before go-live (`qualink adopt`) is completed, not doubled.
 *
 * The supplier's purchasing block is the Supplier's hold (`on_hold`, `hold_type`: supplier.ts).
 * `qualink adopt` reads the receipts still in QI through adoption.ts.
 * Inspection specifications come from Quality Inspection Templates, polled (plan-feed.ts).
 *
 * No equivalent in ERPNext's quality and stock doctypes (quality-domain.md §2.1 lists none): a
 * production order hold (a Work Order has no hold flag; stopping it is a different state), a
 * delivery block (a Delivery Note has no block reason), and with the hold the production
 * confirmation that waits for it. Those refuse with QLK_VALIDATION naming why, so a plant on
 * ERPNext must not route those steps here.
 */
import { type Static, Type } from 'typebox'
import { PermanentError } from '../../../engine/errors.ts'
import { add, compare, formatDecimal, type Quantity, subtract } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type { AdoptionErpPort } from '../../../workflows/ports/adoption.ts'
import type {
  ErpPort,
  LotRef,
  StockPostingResult,
  UsageDecisionBucket,
} from '../../../workflows/ports/erp.ts'
import { defineConnector, EgressSettings } from '../../sdk/define-connector.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { referenceFor } from '../../sdk/reference.ts'
import { connectorSecret, exactlyOneSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'
import type { InspectionPlanFeed } from '../sap-s4/connector.ts'
import { adoptionErpNext } from './adoption.ts'
import { FrappeRead } from './frappe-read.ts'
import { readTemplateFeed } from './plan-feed.ts'
import { FrappeQuality } from './quality.ts'
import { setSupplierPurchasingBlock } from './supplier.ts'

const Warehouse = Type.Optional(Type.String({ minLength: 1 }))
export const ErpNextConfig = Type.Object(
  {
    baseUrl: Type.String({ pattern: '^https?://[^/]+$' }),
    /** Frappe API key and secret (`token key:secret`): each from an environment variable or a file */
    apiKeyEnv: SecretEnvField(),
    apiKeyFile: SecretFileField(),
    apiSecretEnv: SecretEnvField(),
    apiSecretFile: SecretFileField(),
    /** canonical bucket → warehouse name */
    warehouses: Type.Object(
      {
        unrestricted: Type.String({ minLength: 1 }),
        qualityInspection: Type.String({ minLength: 1 }),
        blocked: Warehouse,
        scrap: Warehouse,
        returned: Warehouse,
        sample: Warehouse,
        reserves: Warehouse,
      },
      { additionalProperties: false },
    ),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false, ...exactlyOneSecret('apiKey', 'apiSecret') },
)
export type ErpNextConfig = Static<typeof ErpNextConfig>

const UD_TO_BUCKET: Record<UsageDecisionBucket, Bucket | undefined> = {
  release: 'unrestricted',
  block: 'blocked',
  scrap: 'scrap',
  return: 'returned',
  sample: 'sample',
  reserves: 'reserves',
  regrade: undefined,
}

type Json = Record<string, unknown>
const STOCK_ENTRY = '/api/resource/Stock%20Entry'

function unsupported(what: string): never {
  throw new PermanentError(
    'QLK_VALIDATION',
    `erp/erpnext: ${what} is not available on ERPNext; route it elsewhere`,
  )
}

class StockEntries {
  constructor(
    private readonly egress: EgressClient,
    private readonly config: ErpNextConfig,
    private readonly auth: string,
    private readonly read: FrappeRead,
  ) {}

  warehouse(b: Bucket): string {
    const w = this.config.warehouses[b]
    if (!w)
      throw new PermanentError('QLK_CONFIG_INVALID', `erp/erpnext: no warehouse configured for bucket ${b}`)
    return w
  }

  private async find(reference: string, traceparent?: string): Promise<Json[]> {
    const filters = encodeURIComponent(JSON.stringify([['remarks', '=', reference]]))
    const fields = encodeURIComponent(JSON.stringify(['name', 'docstatus']))
    const res = await this.egress.request({
      method: 'GET',
      url: `${this.config.baseUrl}${STOCK_ENTRY}?filters=${filters}&fields=${fields}&limit_page_length=0`,
      headers: { authorization: this.auth },
      traceparent,
      context: `read back Stock Entry ${reference}`,
    })
    const data = res.json<{ data?: unknown }>().data
    return Array.isArray(data) ? (data as Json[]) : []
  }

  /**
   * One submitted Material Transfer carrying `reference`, posted at most once. With `inspection`
   * (a usage decision's posting out of QI) its rows name that Quality Inspection, and only what
   * rows naming it have not moved yet is posted.
   */
  async transferOnce(
    key: string,
    lot: LotRef,
    moves: ReadonlyArray<Move>,
    traceparent?: string,
    inspection?: string,
  ): Promise<StockPostingResult> {
    const reference = referenceFor(key)
    for (let round = 0; round < 3; round++) {
      const found = await this.find(reference, traceparent)
      const live = found.filter((d) => d.docstatus === 1)
      if (live.length > 0) return { documents: live.map((d) => String(d.name)), alreadyDone: round === 0 }
      if (found.some((d) => d.docstatus === 2))
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `Stock Entry ${reference} was cancelled in ERPNext; not posting again`,
        )
      const left: { moves: readonly Move[]; documents?: string[] } = inspection
        ? await this.notYetPosted(inspection, moves, traceparent)
        : { moves }
      if (left.moves.length === 0) return { documents: left.documents ?? [], alreadyDone: true }
      const items = left.moves.map((m) => ({
        item_code: lot.material,
        batch_no: lot.lot,
        // A decimal string: Frappe casts with flt(), and no float decides our quantities.
        qty: formatDecimal(m.quantity),
        uom: m.quantity.uom,
        s_warehouse: this.warehouse(m.from),
        t_warehouse: this.warehouse(m.to),
        ...(inspection ? { quality_inspection: inspection } : {}),
      }))
      try {
        const res = await this.egress.request({
          method: 'POST',
          url: `${this.config.baseUrl}${STOCK_ENTRY}`,
          headers: { authorization: this.auth },
          json: { purpose: 'Material Transfer', remarks: reference, docstatus: 1, items },
          traceparent,
          context: `post Stock Entry ${reference}`,
        })
        const d = res.json<{ data?: Json }>().data ?? {}
        return { documents: [String(d.name)], alreadyDone: false }
      } catch (e) {
        if (!(e instanceof EgressFailure && e.ambiguous)) throw e
      }
    }
    throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `Stock Entry ${reference}: not confirmed by read-back`, {
      ambiguous: true,
    })
  }

  /** The decided moves less what Stock Entries naming the inspection already moved, per target. */
  private async notYetPosted(
    inspection: string,
    moves: ReadonlyArray<Move>,
    traceparent?: string,
  ): Promise<{ moves: Move[]; documents?: string[] }> {
    const qi = this.warehouse('qualityInspection')
    const posted = await this.read.postedForInspection(inspection, qi, traceparent)
    if (posted.documents.length === 0) return { moves: [...moves] }
    const decided = new Map<string, Quantity>()
    for (const m of moves) {
      const w = this.warehouse(m.to)
      const prev = decided.get(w)
      decided.set(w, prev ? add(prev, m.quantity) : m.quantity)
    }
    const out: Move[] = []
    for (const [w, q] of posted.byWarehouse)
      if (!decided.has(w) || compare(q, decided.get(w)!) > 0)
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `Quality Inspection ${inspection}: ERPNext already moved ${formatDecimal(q)} ${q.uom} of it to ${w} (${posted.documents.join(', ')}), more than the decision puts there; not posting, a person must settle it`,
        )
    for (const m of moves) {
      const w = this.warehouse(m.to)
      const already = posted.byWarehouse.get(w)
      if (!already) {
        out.push(m)
        continue
      }
      // posted already on this target: take it off this move (and the next one to the same target)
      const take = compare(already, m.quantity) >= 0 ? m.quantity : already
      const rest = subtract(m.quantity, take)
      const after = subtract(already, take)
      if (after.units === 0) posted.byWarehouse.delete(w)
      else posted.byWarehouse.set(w, after)
      if (rest.units > 0) out.push({ ...m, quantity: rest })
    }
    return { moves: out, documents: posted.documents }
  }
}

type Move = { readonly from: Bucket; readonly to: Bucket; readonly quantity: Quantity }

export const erpNextConnector = defineConnector({
  kind: 'erp/erpnext',
  description:
    'ERPNext (Frappe REST): usage decision on the Quality Inspection, UD splits and transfers as Stock Entries between warehouses, stock from the Stock Ledger',
  configSchema: ErpNextConfig,
  actions: [
    'recordUsageDecision',
    'postStockDisposition',
    'readLotStock',
    'transferStock',
    'setSupplierPurchasingBlock',
    'listOpenInspectionLots',
    'listHeldProductionOrders',
  ],
  targets: (c) => [c.baseUrl],
  egressSettings: (c) => c.egress,
  create(config, ctx): ErpPort & AdoptionErpPort & InspectionPlanFeed {
    const who = { kind: 'erp/erpnext', name: ctx.name }
    const key = connectorSecret(config, 'apiKey', '', ctx.environment, who)
    const secret = connectorSecret(config, 'apiSecret', '', ctx.environment, who)
    const auth = `token ${key}:${secret}`
    const read = new FrappeRead(ctx.egress, config.baseUrl, auth)
    const entries = new StockEntries(ctx.egress, config, auth, read)
    const quality = new FrappeQuality(ctx.egress, config.baseUrl, auth, config.warehouses)
    return {
      ...adoptionErpNext(read, config.warehouses.qualityInspection),
      // Quality Inspection Templates and their Items (config: ingress.feeds, reads: inspection-plans)
      readInspectionPlanFeed: (after, top) =>
        readTemplateFeed({ egress: ctx.egress, baseUrl: config.baseUrl, auth }, after, top),
      postStockDisposition: (input) =>
        entries.transferOnce(
          input.idempotencyKey,
          input.lot,
          input.lines.map((l, i) => {
            const to = UD_TO_BUCKET[l.bucket]
            if (!to) unsupported(`lines[${i}]: ${l.bucket} (regrade needs a Repack entry)`)
            return { from: 'qualityInspection' as const, to, quantity: l.quantity }
          }),
          input.traceparent,
          input.inspectionLot,
        ),
      transferStock: (i) =>
        entries.transferOnce(
          i.idempotencyKey,
          i.lot,
          [{ from: i.from, to: i.to, quantity: i.quantity }],
          i.traceparent,
        ),
      recordUsageDecision: (input) => quality.recordUsageDecision(input),
      readLotStock: (lot, opts) => quality.readLotStock(lot, opts?.traceparent),
      setProductionOrderHold: async () =>
        unsupported(
          'setProductionOrderHold (a Work Order has no hold flag; hold the lot by a transfer instead)',
        ),
      setDeliveryBlock: async () => unsupported('setDeliveryBlock (a Delivery Note has no block reason)'),
      setSupplierPurchasingBlock: (input) =>
        setSupplierPurchasingBlock(ctx.egress, config.baseUrl, auth, input),
      // A Job Card records an operation's completed quantity, but the confirmation Qualink posts is
      // the one held while the order is on quality hold, and a Work Order cannot be held.
      confirmOperation: async () =>
        unsupported(
          'confirmOperation (confirmations are held with the production order hold, which a Work Order does not have; ERPNext records completions on its own Job Cards)',
        ),
    }
  },
})
