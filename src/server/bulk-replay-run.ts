import { isQualinkError } from '../contracts/errors.ts'
import { replayDeadLetterAs } from '../store/dead-letters.ts'
import type { DeadLetter } from '../store/engine-types.ts'
import {
  createOperation,
  finishOperation,
  HEARTBEAT_MS,
  type Operation,
  reportProgress,
} from '../store/operations.ts'
import type { Scope } from '../store/types.ts'
import type { ServerContext } from './context.ts'

/** One dead letter the request named: `dl` is absent when it was no longer open at the start. */
export interface ReplayItem {
  readonly id: number
  readonly dl?: DeadLetter
}

export interface ReplayRefusal {
  readonly id: number
  readonly key: string
  readonly code: string
  readonly detail: string
}

export interface BulkReplayOutcome {
  readonly requested: number
  readonly replayed: DeadLetter[]
  readonly refused: ReplayRefusal[]
  /** resolved by someone else before its turn */
  gone: number
}

/** the stored outcome names at most this many refusals; the count is always whole */
const REFUSALS_KEPT = 100
/** the longest the replay loop holds the event loop before letting requests through */
const YIELD_EVERY_MS = 20
/** progress is written at most this often (and at the end), not once per dead letter */
const PROGRESS_EVERY_MS = 250

/** What a bulk replay stores as its result: counts, and the first refusals with their reasons. */
export function outcomeSummary(o: BulkReplayOutcome): Record<string, unknown> {
  return {
    requested: o.requested,
    replayed: o.replayed.length,
    refused: o.refused.length,
    gone: o.gone,
    refusals: o.refused.slice(0, REFUSALS_KEPT),
  }
}

/**
 * Starts a bulk replay as a stored operation and replays in the background, one dead letter after
 * another as before, writing done/failed as it goes (done counts every dead letter handled,
 * failed those the engine refused). Returns the operation as created (done 0) and the promise of
 * the outcome; the promise never rejects: an unexpected error marks the operation failed.
 */
export async function startBulkReplay(
  ctx: ServerContext,
  o: {
    readonly scope: Scope
    readonly actor: string
    readonly items: readonly ReplayItem[]
    /** added to each replay's audit payload (the dashboard marks its bulk replays) */
    readonly auditExtra?: Record<string, unknown>
  },
): Promise<{ operation: Operation; finished: Promise<BulkReplayOutcome | Error> }> {
  const operation = await createOperation(ctx.store, {
    kind: 'bulk-replay',
    scope: o.scope,
    actor: o.actor,
    total: o.items.length,
    status: 'running',
    owner: `${process.pid}`,
  })
  const finished = replayAll(ctx, operation.id, o).catch((e: Error) => e)
  ctx.runInBackground?.(finished)
  return { operation, finished }
}

async function replayAll(
  ctx: ServerContext,
  opId: string,
  o: Parameters<typeof startBulkReplay>[1],
): Promise<BulkReplayOutcome> {
  const outcome: BulkReplayOutcome = { requested: o.items.length, replayed: [], refused: [], gone: 0 }
  let done = 0
  const counts = () => ({ done, failed: outcome.refused.length })
  // The heartbeat keeps a slow replay from reading as interrupted (store/operations.ts STALE_MS).
  const heartbeat = setInterval(() => {
    reportProgress(ctx.store, [opId], counts()).catch((e) =>
      ctx.logger.warn({ err: e, operation: opId }, 'bulk replay heartbeat failed'),
    )
  }, HEARTBEAT_MS)
  heartbeat.unref()
  let lastWrite = Date.now()
  let lastYield = 0
  try {
    for (const { id, dl } of o.items) {
      // On SQLite a replay is synchronous work: without turns of the event loop the 202 and every
      // other request would wait for the whole loop (measured: the answer to a 200-dead-letter
      // replay came after 90-800 ms, with the last replay, under load). A turn at the start and
      // then at most every YIELD_EVERY_MS, not after each replay, which cost throughput (a turn
      // per replay: 200 took 1.3-1.7 s on SQLite; this way 64-125 ms, answered in 6 ms; two runs
      // each, in-process requests, 2 busy cores).
      if (done === 0 || Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        lastYield = Date.now()
      }
      // A shutdown stops the loop between two replays (each is its own transaction) instead of
      // holding the process up for the rest; the operation says where it stopped.
      if (ctx.isShuttingDown()) break
      if (!dl) outcome.gone++
      else {
        try {
          const r = await replayDeadLetterAs(ctx.store, o.scope, o.actor, dl, o.auditExtra)
          if (r) outcome.replayed.push(r)
          else outcome.gone++
        } catch (e) {
          if (!isQualinkError(e)) throw e
          outcome.refused.push({ id, key: dl.key, code: e.code, detail: e.message })
        }
      }
      done++
      if (Date.now() - lastWrite >= PROGRESS_EVERY_MS) {
        lastWrite = Date.now()
        await reportProgress(ctx.store, [opId], counts())
        // the engine starts on what is replayed so far instead of waiting for the last one
        ctx.wakeEngine()
      }
    }
    clearInterval(heartbeat)
    const stopped = done < outcome.requested
    await finishOperation(ctx.store, [opId], {
      status: stopped ? 'failed' : 'completed',
      ...counts(),
      message: stopped
        ? `the server shut down after ${done} of ${outcome.requested}; the rest stay open: preview and replay them again`
        : `replayed ${outcome.replayed.length} of ${outcome.requested}`,
      result: outcomeSummary(outcome),
    })
    ctx.wakeEngine()
    return outcome
  } catch (e) {
    clearInterval(heartbeat)
    ctx.logger.error({ err: e, operation: opId }, 'bulk replay failed')
    await finishOperation(ctx.store, [opId], {
      status: 'failed',
      ...counts(),
      message: `stopped after ${done} of ${outcome.requested}: ${(e as Error).message}`,
      result: outcomeSummary(outcome),
    }).catch((err) => ctx.logger.error({ err, operation: opId }, 'bulk replay: recording the failure failed'))
    ctx.wakeEngine()
    throw e
  }
}
