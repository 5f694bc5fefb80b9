/**
 * Per-lot stock as a quantity vector whose sum is conserved (DESIGN.md §1, quality-domain.md §7.1).
 * Shared by the SAP simulators; quantities are fixed-point integers (see quantity.ts).
 *
 * Invariant per lot: sum(buckets) === net received. `issued` holds what left the plant through
 * goods issues (consumption, delivery) so that it still counts toward the sum.
 */
import { formatQuantity } from './quantity.ts'

export const BUCKETS = [
  'unrestricted',
  'qi',
  'blocked',
  'scrap',
  'returned',
  'sample',
  'reserves',
  'issued',
] as const
export type Bucket = (typeof BUCKETS)[number]

/** A lot is a batch of a material in a plant; storage location is not part of its identity here. */
export interface LotKey {
  readonly material: string
  readonly plant: string
  readonly batch: string
}

export interface LotStock {
  readonly key: LotKey
  /** Net quantity that entered the plant (receipts minus receipt reversals). */
  received: number
  buckets: Record<Bucket, number>
}

/** `external` is outside the plant: a receipt comes from it, a receipt reversal goes back to it. */
export type Place = Bucket | 'external'

export interface Movement {
  readonly key: LotKey
  readonly from: Place
  readonly to: Place
  readonly qty: number
}

export class StockDeficitError extends Error {
  constructor(
    readonly key: LotKey,
    readonly bucket: Bucket,
    readonly available: number,
    readonly requested: number,
  ) {
    // Wording after SAP message M7 021 ("Deficit of ... stock").
    super(
      `Deficit of ${bucket} stock ${formatQuantity(requested - available)}: ` +
        `${key.material} ${key.plant} batch ${key.batch}`,
    )
  }
}

export function lotId(key: LotKey): string {
  return `${key.material}|${key.plant}|${key.batch}`
}

function emptyBuckets(): Record<Bucket, number> {
  return Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<Bucket, number>
}

export class StockLedger {
  private readonly lots = new Map<string, LotStock>()

  get(key: LotKey): LotStock | undefined {
    return this.lots.get(lotId(key))
  }

  all(): LotStock[] {
    return [...this.lots.values()]
  }

  /** Applies every movement or none; a bucket never goes negative. */
  apply(movements: readonly Movement[]): void {
    const draft = new Map<string, LotStock>()
    const draftOf = (key: LotKey): LotStock => {
      const id = lotId(key)
      let d = draft.get(id)
      if (!d) {
        const cur = this.lots.get(id)
        d = {
          key: { ...key },
          received: cur?.received ?? 0,
          buckets: { ...(cur?.buckets ?? emptyBuckets()) },
        }
        draft.set(id, d)
      }
      return d
    }
    for (const m of movements) {
      if (!Number.isSafeInteger(m.qty) || m.qty <= 0) throw new RangeError(`movement quantity must be > 0`)
      const d = draftOf(m.key)
      if (m.from === 'external') d.received += m.qty
      else {
        if (d.buckets[m.from] < m.qty) throw new StockDeficitError(m.key, m.from, d.buckets[m.from], m.qty)
        d.buckets[m.from] -= m.qty
      }
      if (m.to === 'external') d.received -= m.qty
      else d.buckets[m.to] += m.qty
    }
    for (const [id, d] of draft) this.lots.set(id, d)
  }

  /** Lots whose vector does not sum to what was received, or has a negative bucket; empty when sound. */
  violations(): string[] {
    const out: string[] = []
    for (const lot of this.lots.values()) {
      const sum = BUCKETS.reduce((s, b) => s + lot.buckets[b], 0)
      if (sum !== lot.received) out.push(`${lotId(lot.key)}: sum ${sum} != received ${lot.received}`)
      for (const b of BUCKETS) if (lot.buckets[b] < 0) out.push(`${lotId(lot.key)}: ${b} negative`)
    }
    return out
  }

  /** every lot's vector as plain data (simulators/shared/state-file.ts) */
  dump(): LotStock[] {
    return this.all().map((l) => ({ key: { ...l.key }, received: l.received, buckets: { ...l.buckets } }))
  }

  /** puts back what `dump` returned (into an empty ledger) */
  restore(lots: readonly LotStock[]): void {
    for (const l of lots)
      this.lots.set(lotId(l.key), { key: { ...l.key }, received: l.received, buckets: { ...l.buckets } })
  }

  snapshot(): Array<{ lot: string; key: LotKey; received: number; buckets: Record<Bucket, number> }> {
    return this.all().map((l) => ({
      lot: lotId(l.key),
      key: l.key,
      received: l.received,
      buckets: { ...l.buckets },
    }))
  }
}
