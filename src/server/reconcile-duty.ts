import { periodicDuty, type SingletonOptions } from '../engine/singleton.ts'
import type { Logger } from '../observability/logger.ts'
import type { Reconciler } from '../projections/reconciliation.ts'
import { claimPending, finishOperation, HEARTBEAT_MS, reportProgress } from '../store/operations.ts'
import type { Store } from '../store/types.ts'

/** how often the lease holder looks for a "Reconcile now" request: one indexed read */
export const REQUEST_POLL_MS = 1_000

/**
 * The reconciliation singleton's duty: a pass every `intervalMs` as before, and a pass soon after
 * someone asks for one (a pending `reconciliation` operation, routes/operations.ts). Requests
 * pending when a pass starts are claimed by it and follow its progress; one asked for during a
 * pass waits for the next, which starts within REQUEST_POLL_MS of the end of this one.
 */
export function reconciliationDuty(
  store: Store,
  reconciler: Reconciler,
  o: { readonly intervalMs: number; readonly owner: string; readonly logger: Logger },
): Pick<SingletonOptions, 'run' | 'halt'> {
  let lastPassMs = Date.now()
  const pass = async () => {
    const ids = await claimPending(store, 'reconciliation', o.owner)
    if (ids.length === 0 && Date.now() - lastPassMs < o.intervalMs) return
    lastPassMs = Date.now()
    let progress = { done: 0, total: 0 }
    const heartbeat = setInterval(() => {
      reportProgress(store, ids, progress).catch((e) =>
        o.logger.warn({ err: e }, 'reconciliation progress heartbeat failed'),
      )
    }, HEARTBEAT_MS)
    heartbeat.unref()
    try {
      const drift = await reconciler.runOnce({
        onProgress: async (p) => {
          progress = p
          if (ids.length) await reportProgress(store, ids, p)
        },
      })
      clearInterval(heartbeat)
      await finishOperation(store, ids, {
        status: 'completed',
        ...progress,
        failed: 0,
        message: `${progress.done} completed receipt inspections reconciled; ${drift.length} lot(s) with open drift`,
        result: { runsReconciled: progress.done, openDrift: drift.length },
      })
    } catch (e) {
      clearInterval(heartbeat)
      o.logger.error({ err: e }, 'reconciliation pass failed')
      await finishOperation(store, ids, {
        status: 'failed',
        ...progress,
        failed: 0,
        message: `the pass stopped after ${progress.done} of ${progress.total}: ${(e as Error).message}`,
      })
    }
  }
  const duty = periodicDuty(pass, REQUEST_POLL_MS)
  return {
    run: (lease) => {
      // a process that takes the lease over waits a whole interval for its first scheduled pass
      lastPassMs = Date.now()
      return duty.run(lease)
    },
    halt: duty.halt,
  }
}
