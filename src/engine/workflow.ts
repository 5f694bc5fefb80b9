import type { PoisonPolicy } from '../store/engine-types.ts'
import type { StoredEvent } from '../store/types.ts'
import type { RetryPolicy } from './retry.ts'

export type WaitResult =
  | { readonly event: StoredEvent; readonly timedOut?: undefined }
  | { readonly timedOut: true }

export interface StepInfo {
  /** derived from business identity: the same business effect always carries the same key */
  readonly idempotencyKey: string
  /** 1 on the first try of this step */
  readonly attempt: number
}

/**
 * What workflow code may touch. Time, configuration and rule inputs come only through here, so
 * a replay sees the same values; every side effect goes through `step`.
 */
export interface WorkflowContext<Ports = unknown, Config = unknown> {
  readonly runId: string
  readonly workflow: string
  readonly key: string
  readonly plant: string
  readonly trigger: StoredEvent
  /** the configuration snapshot taken when the run first executed */
  readonly config: Config
  readonly ports: Ports
  /**
   * Runs `fn` and journals its JSON result; a journaled step is never run again. With the
   * engine's default `at-yield` journal the entry is written with the attempt's next wait,
   * completion or failure, so a crash before that re-runs `fn` (its effect must be keyed and read
   * back, DESIGN §6); `durable: true` writes it before the workflow continues (one commit).
   */
  step<T>(
    name: string,
    fn: (info: StepInfo) => Promise<T>,
    opts?: { key?: string; durable?: boolean },
  ): Promise<T>
  /** waits for an event of the type's family about `subject`; one that arrived early is found */
  waitFor(
    type: string,
    opts: { subject: string; timeout?: string | number; afterSeq?: number },
  ): Promise<WaitResult>
  /** the next trigger event for this key that arrived while the run was active */
  receive(opts?: { timeout?: string | number }): Promise<WaitResult>
  sleep(duration: string | number): Promise<void>
  /** the database clock, journaled */
  now(): Promise<Date>
}

export interface CompensationInfo {
  readonly reason: string
  /** names of the steps that completed before the cancel, in order */
  readonly completedSteps: readonly string[]
}

export interface WorkflowDefinition<Ports = unknown, Config = unknown> {
  readonly name: string
  readonly version: number
  /** older versions whose in-flight runs and replays this version may execute (a patch) */
  readonly compatibleWith?: readonly number[]
  readonly triggers: readonly string[]
  /**
   * The triggers that may start a run (default: all of them). The others only join the inbox of
   * the key's active run; with none active they are stored and route nowhere (a late decision
   * webhook must not start a run that has nothing to do).
   */
  readonly startsOn?: readonly string[]
  /** one active run per key; trigger events of a busy key go to its inbox */
  readonly key: (event: {
    type: string
    subject: string | null
    plant: string
    data: unknown
    id: string
  }) => string
  readonly poisonPolicy?: PoisonPolicy
  readonly retry?: Partial<RetryPolicy>
  /** the configuration snapshot for a new run of this plant */
  readonly config?: (plant: string) => Config
  run(ctx: WorkflowContext<Ports, Config>, trigger: StoredEvent): Promise<unknown>
  compensate?(ctx: WorkflowContext<Ports, Config>, info: CompensationInfo): Promise<void>
}

export function defineWorkflow<Ports, Config = unknown>(
  def: WorkflowDefinition<Ports, Config>,
): WorkflowDefinition<Ports, Config> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(def.name))
    throw new Error(`workflow name '${def.name}' must be kebab-case`)
  if (!Number.isInteger(def.version) || def.version < 1)
    throw new Error(`workflow ${def.name}: version must be >= 1`)
  return def
}
