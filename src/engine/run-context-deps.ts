/** What a RunContext is given for one run attempt, and when its completed commands are journaled. */
import type { EngineStore, Fence, JournalEntry, RunRow, WaitRow } from '../store/engine-types.ts'
import type { StoredEvent } from '../store/types.ts'

export interface RunContextDeps {
  readonly store: EngineStore
  readonly fence: Fence
  readonly run: RunRow
  readonly trigger: StoredEvent
  readonly journal: readonly JournalEntry[]
  readonly waits: readonly WaitRow[]
  readonly config: unknown
  readonly ports: unknown
  readonly codeVersion: number
  readonly attempt: number
  readonly dbNow: () => Promise<number>
  readonly upcast: (e: StoredEvent) => StoredEvent
  /** compensation journals by name and occurrence, appended after the main run's entries */
  readonly compensation?: boolean
  /** the configuration snapshot to store with the attempt's first write (the run has none yet) */
  readonly unsavedConfig?: unknown
  /** when completed commands are journaled (JournalMode); default 'per-step' */
  readonly journalMode?: JournalMode
  /** 'at-yield': write the buffer at the next command once it holds this many entries (default 64) */
  readonly maxBuffered?: number
  /** 'at-yield': write the buffer at the next command once its oldest entry is this old (ms) */
  readonly maxBufferedMs?: number
  /** true once a lease renewal found the lease gone: no further step may start */
  readonly leaseLost?: () => boolean
}

/**
 * When a run attempt's completed commands reach the journal (docs/architecture.md, "Journal
 * writes"):
 * - `per-step`: each in its own fenced transaction the moment it completes (a completed step is
 *   never re-run, one commit per step);
 * - `at-yield`: buffered, and written in the fenced transaction that ends the attempt's stretch
 *   of work: a wait or sleep registration, an inbox receive, completion, retry, dead letter,
 *   cancel; also at the next command once the buffer holds `maxBuffered` entries or its oldest is
 *   `maxBufferedMs` old, and right after a step declared `{ durable: true }`. A crash before that
 *   write re-runs the buffered steps; their effects are keyed by business identity and read back
 *   (DESIGN §6), so the re-run finds them instead of repeating them.
 */
export type JournalMode = 'per-step' | 'at-yield'
