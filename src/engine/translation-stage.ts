import type { CloudEvent } from '../contracts/envelope.ts'
import { isQualinkError, QualinkError } from '../contracts/errors.ts'
import type { EventRegistry } from '../contracts/registry.ts'
import type { XrefKey, XrefResolver } from '../mapping/xref.ts'
import type { Logger } from '../observability/logger.ts'
import { detached, inSpan, type TraceSpan } from '../observability/tracing.ts'
import { toAppendEvent } from '../store/append-event.ts'
import { xrefKeyString } from '../store/ingress-types.ts'
import type { Store, StoredRawDelivery } from '../store/types.ts'
import type { WriteQueue } from '../store/write-queue.ts'
import { classify, RetryableError } from './errors.ts'
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.ts'

/**
 * Turns one raw delivery of a source into canonical events. Ids must derive from the delivery
 * (e.g. `<delivery id>#<n>`): a delivery translated twice (crash between append and settle)
 * then deduplicates on (source, id) instead of storing twice.
 */
export interface Translator {
  readonly source: string
  translate(raw: StoredRawDelivery, xref: XrefResolver): Promise<CloudEvent[]>
}

/** A delivery's place in its pass's append order (TranslationStage.runOnce). */
interface Gate {
  readonly before: Promise<void>
  readonly handedOver: () => void
}

export interface TranslationStageOptions {
  readonly store: Store
  readonly queue: WriteQueue
  readonly registry: EventRegistry
  readonly translators: readonly Translator[]
  readonly logger?: Logger
  readonly retry?: RetryPolicy
  readonly batch?: number
  readonly pollMs?: number
  readonly onOutcome?: (source: string, status: string) => void
  /**
   * Events were appended by a pass: the engine should claim what they made due now. The webhook's
   * own POST wakes the engine before its delivery is translated, so without this a run started
   * by a webhook waited for the engine's next poll.
   */
  readonly onAppended?: () => void
}

/**
 * The retryable stage between a stored raw delivery and the event log (DESIGN §6): translate,
 * map identities, validate, append. A missing identity mapping parks the delivery (it resumes
 * when the mapping is added); invalid content is dead-lettered with its raw body kept;
 * anything else is retried with backoff.
 */
export class TranslationStage {
  private readonly bySource: Map<string, Translator>
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private stopped = true
  /** a wake() arrived while a pass was running: the next pass starts when it ends, not a poll later */
  private wakeRequested = false
  private passing = false

  constructor(private readonly o: TranslationStageOptions) {
    this.bySource = new Map(o.translators.map((t) => [t.source, t]))
  }

  /**
   * Translates what is due now; returns how many deliveries were settled. The claimed deliveries
   * are translated side by side (their identity lookups and settlements overlap), but each one's
   * events are handed to the write queue only after the delivery before it in seq order has handed
   * over its own or finished without any: the queue keeps that order in its group commit, so the
   * events of one key are appended in the order their deliveries were received, as one at a time
   * did, and a pass of N deliveries costs one commit of events instead of N.
   */
  async runOnce(): Promise<number> {
    const due = await this.o.store.ingress.claimRawDeliveries(this.o.batch ?? 50, 30_000)
    let turn: Promise<void> = Promise.resolve()
    const counts = await Promise.all(
      due.map((raw) => {
        const before = turn
        let handedOver!: () => void
        turn = new Promise((r) => {
          handedOver = r
        })
        const gate = { before, handedOver }
        // Continues the sender's trace from the stored traceparent header, else starts one.
        const span = {
          kind: 'consumer' as const,
          parent: raw.headers.traceparent ?? null,
          attributes: {
            'qualink.ingress.source': raw.source,
            'qualink.ingress.delivery_id': raw.deliveryId,
            'qualink.plant': raw.plant,
          },
        }
        return inSpan(`translate ${raw.source}`, span, (s) => this.settle(raw, gate, s))
      }),
    )
    if (counts.some((n) => n > 0)) this.o.onAppended?.()
    return due.length
  }

  /**
   * Settles one delivery; returns how many events it appended. `gate.before` settles once the
   * delivery before this one handed its events to the queue (or has none to hand); this one calls
   * `gate.handedOver` once it did the same, on every path.
   */
  private async settle(raw: StoredRawDelivery, gate: Gate, span?: TraceSpan): Promise<number> {
    const ingress = this.o.store.ingress
    const missing: XrefKey[] = []
    // Store failures during lookups are transient; anything else a translator throws is about the content.
    const transient = (e: unknown) =>
      new RetryableError('QLK_STORE_UNAVAILABLE', `identity lookup failed: ${String(e)}`)
    const resolver: XrefResolver = {
      resolve: async (k) => {
        const id = await ingress.resolveXref(k).catch((e) => Promise.reject(transient(e)))
        if (id === undefined) missing.push(k)
        return id
      },
      reverse: (s, t, e, p) => ingress.reverseXref(s, t, e, p).catch((err) => Promise.reject(transient(err))),
    }
    try {
      const translator = this.bySource.get(raw.source)
      if (!translator) {
        throw new QualinkError('QLK_CONFIG_INVALID', `no translator is configured for source '${raw.source}'`)
      }
      const produced = await translator.translate(raw, resolver)
      const events = produced.map((e, i) =>
        this.o.registry.validate(
          {
            ...e,
            id: e.id ?? `${raw.deliveryId}#${i}`,
            causationid: e.causationid ?? `raw:${raw.source}:${raw.deliveryId}`,
            // the run an event starts continues this delivery's trace
            ...(e.traceparent || !span?.traceparent ? {} : { traceparent: span.traceparent }),
          },
          `/events/${i}`,
        ),
      )
      const receivedAt = new Date(raw.receivedAtMs).toISOString()
      await gate.before
      // The delivery is settled in the events' own group commit (translatedFrom): no commit of its own.
      const submitted = events.length
        ? this.o.queue.submit({
            actor: `connector:${raw.source}`,
            events: events.map((e) => toAppendEvent(e, receivedAt)),
            translatedFrom: raw.seq,
          })
        : undefined
      gate.handedOver()
      if (submitted) await submitted
      else await ingress.settleRawDelivery(raw.seq, { status: 'translated', eventSeq: null })
      this.o.onOutcome?.(raw.source, 'translated')
      span?.set({ 'qualink.translation.outcome': 'translated', 'qualink.translation.events': events.length })
      return events.length
    } catch (e) {
      const c = classify(e)
      if (c.code === 'QLK_XREF_MISSING' && missing.length > 0) {
        await ingress.settleRawDelivery(raw.seq, {
          status: 'parked',
          code: c.code,
          error: c.message,
          parkedOn: missing.map(xrefKeyString),
        })
        this.o.onOutcome?.(raw.source, 'parked')
        span?.set({ 'qualink.translation.outcome': 'parked', 'error.type': c.code })
        return 0
      }
      const policy = this.o.retry ?? DEFAULT_RETRY
      const transientFailure = e instanceof RetryableError || (isQualinkError(e) && e.retryable)
      if (transientFailure && raw.attempts < policy.maxAttempts) {
        await ingress.settleRawDelivery(raw.seq, {
          status: 'pending',
          retryInMs: backoffDelay(raw.attempts, policy),
          code: c.code,
          error: c.message,
        })
        this.o.onOutcome?.(raw.source, 'retry')
        span?.fail(e, c.code)
        return 0
      }
      // The raw body stays stored: "what exactly did the ERP send?" always has an answer.
      await ingress.settleRawDelivery(raw.seq, { status: 'dead', code: c.code, error: c.message })
      this.o.onOutcome?.(raw.source, 'dead')
      span?.set({ 'qualink.translation.outcome': 'dead' })
      span?.fail(e, c.code)
      this.o.logger?.warn({ source: raw.source, deliveryId: raw.deliveryId, code: c.code }, c.message)
      return 0
    } finally {
      // A delivery that failed before handing over lets the next one go once its own turn came.
      void gate.before.then(gate.handedOver)
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    // armed outside any trace: a wake-up from an ingress request must not make the loop part of it
    this.timer = detached(() =>
      setTimeout(() => {
        this.timer = undefined
        this.passing = true
        this.running = this.runOnce()
          .catch((e) => {
            this.o.logger?.error({ err: e }, 'translation stage failed; retrying')
            return 0
          })
          .then((n) => {
            this.passing = false
            // A full batch may have left more due; a delivery stored during the pass is due now.
            const again = this.wakeRequested || n >= (this.o.batch ?? 50)
            this.wakeRequested = false
            this.schedule(again ? 0 : (this.o.pollMs ?? 200))
          })
      }, ms),
    )
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  /**
   * A delivery was just stored: translate it now rather than at the next tick; during a pass, the
   * next pass starts as soon as this one ends (the delivery may have been stored after its claim).
   */
  wake(): void {
    if (this.stopped) return
    if (this.passing) this.wakeRequested = true
    else if (this.timer) this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }
}
