/**
 * Payload retention. Per event type, an event's payload (`data`) is removed once it is older
 * than the configured period; its id, type, subject, data hash and every audit row stay, so the
 * audit chain (which hashes payload hashes, src/audit/chain.ts) still verifies and an evidence
 * bundle still proves the event existed with that hash. The raw delivery it came from and the
 * copies runs journaled as wait results lose the payload in the same transaction. Audit payloads
 * (kept apart in audit_payloads for this reason) are removed after `auditPayloads`, only once
 * sealed. Audit rows themselves are never purged (the store's triggers refuse it), which keeps
 * 21 CFR Part 11 §11.10(e)'s "retained at least as long as the subject records" true.
 *
 * Runs as a lease-fenced singleton: each batch first touches its lease row, which fails once
 * another process holds the lease and, on PostgreSQL, blocks a takeover until the batch commits.
 * Every batch is audited (`retention.purged`) in the transaction that purges it.
 */
import { hashCanonical } from '../audit/canonical-json.ts'
import { catalogue } from '../contracts/catalogue.ts'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import { parseDuration } from '../engine/retry.ts'
import type { SingletonOptions } from '../engine/singleton.ts'
import type { Logger } from '../observability/logger.ts'
import { marks, type SqlExecutor } from '../store/sql-executor.ts'
import type { Lease, Store } from '../store/types.ts'

export interface RetentionOptions {
  /** event type → ms its payload is kept after it was recorded */
  readonly events: Readonly<Record<string, number>>
  /**
   * plant → event type → ms, over `events` for that plant's events: a plant may keep a type
   * longer (a customer's or regulator's period) or shorter; a type only a plant lists is purged
   * only there
   */
  readonly plants?: Readonly<Record<string, Readonly<Record<string, number>>>>
  /** ms audit payloads are kept; undefined: forever */
  readonly auditPayloadsMs?: number
  readonly everyMs: number
  /** rows per transaction (default 500) */
  readonly batch?: number
}

export interface PurgeReport {
  readonly events: number
  readonly rawDeliveries: number
  readonly journalCopies: number
  readonly auditPayloads: number
}

/** One retention period applied to one type's events: in one plant, or in all but some. */
interface PurgePass {
  readonly type: string
  readonly keepMs: number
  readonly plants: { readonly only: string } | { readonly except: readonly string[] }
}

export const RETENTION_LEASE = 'retention'
export const RETENTION_ACTOR = 'system:retention'

/** The envelope kept after a purge: the CloudEvent attributes, no `data`, and when it went. */
export function purgedEnvelope(envelope: Record<string, unknown>, atMs: number): Record<string, unknown> {
  const { data: _data, ...attributes } = envelope
  return { ...attributes, qualinkpurged: new Date(atMs).toISOString() }
}

/** Problems of `retention`: audit payloads must outlive every event payload they describe, in any plant. */
export function retentionProblems(
  r:
    | {
        events?: Record<string, number>
        plants?: Readonly<Record<string, Readonly<Record<string, number>>>>
        auditPayloadsMs?: number
      }
    | undefined,
): Array<{ path: string; message: string }> {
  if (!r?.events || r.auditPayloadsMs === undefined) return []
  const longest = Math.max(
    0,
    ...Object.values(r.events),
    ...Object.values(r.plants ?? {}).flatMap((p) => Object.values(p)),
  )
  return r.auditPayloadsMs < longest
    ? [
        {
          path: '/retention/auditPayloads',
          message:
            'must be at least the longest event retention: audit entries are kept at least as long as the records they describe',
        },
      ]
    : []
}

/**
 * Problems of qualink.yaml's `retention` as written (`qualink config validate`): registered types,
 * plants that are configured (`plants` given), and the audit rule over every period.
 */
export function retentionDocProblems(r: unknown, plants?: readonly string[]): FieldProblem[] {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return []
  const doc = r as { events?: unknown; auditPayloads?: unknown; plants?: unknown }
  const record = (v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  const events = record(doc.events)
  const overrides = Object.entries(record(doc.plants)).map(
    ([plant, o]) => [plant, record(record(o).events)] as const,
  )
  const known = new Set(catalogue.map((t) => t.type))
  const unknownType = (at: string) => (t: string) =>
    known.has(t) ? [] : [{ path: `${at}/${t}`, message: 'must be a registered canonical event type' }]
  const out: FieldProblem[] = [
    ...Object.keys(events).flatMap(unknownType('/retention/events')),
    ...overrides.flatMap(([plant, ev]) => [
      ...(plants && !plants.includes(plant)
        ? [{ path: `/retention/plants/${plant}`, message: 'must be a plant configured under plants' }]
        : []),
      ...Object.keys(ev).flatMap(unknownType(`/retention/plants/${plant}/events`)),
    ]),
  ]
  const ms = (d: unknown) => {
    try {
      return typeof d === 'string' ? parseDuration(d) : undefined
    } catch {
      return undefined
    }
  }
  const periods = [...Object.values(events), ...overrides.flatMap(([, ev]) => Object.values(ev))].map(ms)
  if (periods.some((p) => p === undefined)) return out
  return [
    ...out,
    ...retentionProblems({
      events: Object.fromEntries(periods.map((p, i) => [i, p!])),
      auditPayloadsMs: ms(doc.auditPayloads),
    }),
  ]
}

const parse = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>

export class RetentionPurger {
  private readonly batch: number

  constructor(
    private readonly store: Store,
    private readonly opts: RetentionOptions,
    private readonly logger?: Logger,
  ) {
    this.batch = opts.batch ?? 500
  }

  /** One pass over every configured type and the audit payloads, batch by batch, under `lease`. */
  async runOnce(lease: Lease): Promise<PurgeReport> {
    const total = { events: 0, rawDeliveries: 0, journalCopies: 0, auditPayloads: 0 }
    for (const pass of this.passes()) {
      for (;;) {
        const r = await this.purgeEventBatch(lease, pass)
        total.events += r.events
        total.rawDeliveries += r.rawDeliveries
        total.journalCopies += r.journalCopies
        if (r.events < this.batch) break
      }
    }
    if (this.opts.auditPayloadsMs !== undefined) {
      for (;;) {
        const n = await this.purgeAuditBatch(lease, this.opts.auditPayloadsMs)
        total.auditPayloads += n
        if (n < this.batch) break
      }
    }
    if (total.events + total.auditPayloads > 0) this.logger?.info({ purge: total }, 'retention purge')
    return total
  }

  /**
   * One pass per (type, period): each plant override over its own plant's events, then the
   * type's default over every other plant's (none when only plants list the type).
   */
  private passes(): PurgePass[] {
    const overrides = Object.entries(this.opts.plants ?? {})
    const types = new Set([
      ...Object.keys(this.opts.events),
      ...overrides.flatMap(([, ev]) => Object.keys(ev)),
    ])
    return [...types].flatMap((type) => {
      const own = overrides.filter(([, ev]) => ev[type] !== undefined)
      const fallback = this.opts.events[type]
      return [
        ...own.map(([plant, ev]): PurgePass => ({ type, keepMs: ev[type]!, plants: { only: plant } })),
        ...(fallback === undefined
          ? []
          : [{ type, keepMs: fallback, plants: { except: own.map(([plant]) => plant) } }]),
      ]
    })
  }

  private async purgeEventBatch(lease: Lease, { type, keepMs, plants }: PurgePass) {
    const now = await this.store.now()
    const cutoff = now - keepMs
    const [plantSql, plantArgs] =
      'only' in plants
        ? ['AND plant = ?', [plants.only]]
        : plants.except.length > 0
          ? [`AND plant NOT IN (${marks(plants.except.length)})`, plants.except]
          : ['', []]
    // Events a live run still needs (its trigger, an inbox entry not yet taken) wait for it to end.
    const rows = await this.store.sql.all(
      `SELECT seq, plant, envelope FROM events e WHERE type = ? AND recorded_at_ms < ? AND payload_purged_at_ms IS NULL
        ${plantSql}
        AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.trigger_event_seq = e.seq
          AND r.status IN ('pending', 'waiting', 'failed'))
        AND NOT EXISTS (SELECT 1 FROM run_inbox i WHERE i.event_seq = e.seq AND i.run_id IS NULL)
        ORDER BY seq LIMIT ?`,
      [type, cutoff, ...plantArgs, this.batch],
    )
    if (rows.length === 0) return { events: 0, rawDeliveries: 0, journalCopies: 0 }
    return this.store.sql.tx(async (x) => {
      await fence(x, lease, now)
      const purged = new Map<number, Record<string, unknown>>()
      const byPlant = new Map<string, number[]>()
      for (const r of rows) {
        const seq = Number(r.seq)
        const env = purgedEnvelope(parse(r.envelope), now)
        const n = await x.run(
          'UPDATE events SET envelope = ?, payload_purged_at_ms = ? WHERE seq = ? AND payload_purged_at_ms IS NULL',
          [JSON.stringify(env), now, seq],
        )
        if (n === 0) continue
        purged.set(seq, env)
        byPlant.set(String(r.plant), [...(byPlant.get(String(r.plant)) ?? []), seq])
      }
      const seqs = [...purged.keys()]
      if (seqs.length === 0) return { events: 0, rawDeliveries: 0, journalCopies: 0 }
      const rawDeliveries = await x.run(
        `UPDATE raw_deliveries SET body = ?, headers = ? WHERE event_seq IN (${marks(seqs.length)})`,
        [Buffer.alloc(0), '{}', ...seqs],
      )
      const journalCopies = await this.purgeJournalCopies(x, purged)
      for (const [plant, list] of byPlant)
        await audit(x, now, plant, `retention:events:${type}`, {
          kind: 'event-payloads',
          type,
          retentionMs: keepMs,
          ...('only' in plants ? { plantOverride: true } : {}),
          recordedBeforeMs: cutoff,
          seqs: list,
          count: list.length,
        })
      return { events: seqs.length, rawDeliveries, journalCopies }
    })
  }

  /** Wait results journaled with a purged event lose its payload too (matched through run_waits). */
  private async purgeJournalCopies(x: SqlExecutor, purged: Map<number, Record<string, unknown>>) {
    const seqs = [...purged.keys()]
    const copies = await x.all(
      `SELECT w.event_seq, j.run_id, j.position, j.result FROM run_waits w
        JOIN run_journal j ON j.run_id = w.run_id AND j.position = w.position
        WHERE w.event_seq IN (${marks(seqs.length)})`,
      seqs,
    )
    let n = 0
    for (const c of copies) {
      const result = parse(c.result) as { event?: { envelope?: Record<string, unknown> } } | null
      if (!result?.event?.envelope) continue
      const env = purged.get(Number(c.event_seq))!
      const kept = {
        ...result,
        event: { ...result.event, envelope: { ...env, type: result.event.envelope.type } },
      }
      n += await x.run('UPDATE run_journal SET result = ? WHERE run_id = ? AND position = ?', [
        JSON.stringify(kept),
        c.run_id,
        c.position,
      ])
    }
    return n
  }

  private async purgeAuditBatch(lease: Lease, keepMs: number): Promise<number> {
    const now = await this.store.now()
    const head = await this.store.chainHead()
    if (!head) return 0
    // Only sealed rows: their payload hash is already in the chain.
    const rows = await this.store.sql.all(
      `SELECT p.audit_seq, a.plant FROM audit_payloads p JOIN audit_log a ON a.seq = p.audit_seq
        WHERE a.at_ms < ? AND p.audit_seq <= ? ORDER BY p.audit_seq LIMIT ?`,
      [now - keepMs, head.auditSeq, this.batch],
    )
    if (rows.length === 0) return 0
    return this.store.sql.tx(async (x) => {
      await fence(x, lease, now)
      const seqs = rows.map((r) => Number(r.audit_seq))
      const n = await x.run(`DELETE FROM audit_payloads WHERE audit_seq IN (${marks(seqs.length)})`, seqs)
      const byPlant = new Map<string, number[]>()
      for (const r of rows)
        byPlant.set(String(r.plant), [...(byPlant.get(String(r.plant)) ?? []), Number(r.audit_seq)])
      for (const [plant, list] of byPlant)
        await audit(x, now, plant, 'retention:audit-payloads', {
          kind: 'audit-payloads',
          retentionMs: keepMs,
          recordedBeforeMs: now - keepMs,
          auditSeqs: list,
          count: list.length,
        })
      return n
    })
  }
}

/** Touches the lease row: fails once another process holds it; on PostgreSQL also locks it till commit. */
async function fence(x: SqlExecutor, lease: Lease, now: number): Promise<void> {
  const held = await x.run(
    'UPDATE leases SET expires_at_ms = expires_at_ms WHERE name = ? AND token = ? AND expires_at_ms > ?',
    [lease.name, lease.token, now],
  )
  if (held === 0)
    throw new QualinkError(
      'QLK_LEASE_LOST',
      `retention lease ${lease.name} (token ${lease.token}) is no longer held`,
    )
}

async function audit(x: SqlExecutor, now: number, plant: string, subject: string, payload: unknown) {
  const [a] = await x.all(
    `INSERT INTO audit_log (plant, at_ms, actor, action, subject, correlation_id, payload_hash)
     VALUES (?, ?, ?, 'retention.purged', ?, NULL, ?) RETURNING seq`,
    [plant, now, RETENTION_ACTOR, subject, hashCanonical(payload)],
  )
  await x.run('INSERT INTO audit_payloads (audit_seq, payload) VALUES (?, ?)', [
    Number(a!.seq),
    JSON.stringify(payload),
  ])
}

/** The singleton's duty: a purge every `everyMs` while this process holds the lease. */
export function retentionDuty(
  purger: RetentionPurger,
  everyMs: number,
  logger?: Logger,
): Pick<SingletonOptions, 'run' | 'halt'> {
  let timer: NodeJS.Timeout | undefined
  let active = false
  let current: Promise<unknown> = Promise.resolve()
  return {
    run: (lease) => {
      active = true
      const loop = () => {
        current = purger
          .runOnce(lease)
          .catch((e) => logger?.error({ err: e }, 'retention purge failed; will retry'))
          .finally(() => {
            if (active) timer = setTimeout(loop, everyMs)
          })
      }
      timer = setTimeout(loop, Math.min(everyMs, 1000))
    },
    halt: async () => {
      active = false
      if (timer) clearTimeout(timer)
      timer = undefined
      await current
    },
  }
}
