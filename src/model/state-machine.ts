import { QualinkError } from '../contracts/errors.ts'

/** The object a transition is applied to, for error messages and park reasons. */
export interface ObjectRef {
  readonly type: string
  readonly id: string
}

/** Every state carries the last applied source sequence (per object), if the source sends one. */
export interface SequencedState {
  readonly ref: ObjectRef
  readonly lastSequence?: number
}

export interface SequencedEvent {
  readonly type: string
  /** The source's per-object sequence (CloudEvents `sequence` extension), when it has one. */
  readonly sequence?: number
}

export type Outcome<S> =
  | { readonly parked: false; readonly state: S }
  | { readonly parked: true; readonly code: 'QLK_STALE_SEQUENCE'; readonly reason: string }

/**
 * Parks an event whose sequence is not newer than the last applied one (DESIGN §6): a late
 * "released" must never overwrite a newer "blocked". An equal sequence is parked too — the log
 * already dedups on (source, id), so an equal sequence is a second, different event claiming
 * the same slot, which a human must look at.
 */
export function staleness(state: SequencedState, event: SequencedEvent): Outcome<never> | undefined {
  if (event.sequence === undefined || state.lastSequence === undefined) return undefined
  if (event.sequence > state.lastSequence) return undefined
  return {
    parked: true,
    code: 'QLK_STALE_SEQUENCE',
    reason:
      `${state.ref.type} ${state.ref.id}: event ${event.type} has sequence ${event.sequence}, ` +
      `not newer than the last applied sequence ${state.lastSequence}`,
  }
}

export function nextSequence(state: SequencedState, event: SequencedEvent): number | undefined {
  return event.sequence ?? state.lastSequence
}

export function illegalTransition(
  ref: ObjectRef,
  current: string,
  attempted: string,
  why?: string,
): QualinkError {
  return new QualinkError(
    'QLK_ILLEGAL_TRANSITION',
    `${ref.type} ${ref.id} is '${current}': ${attempted} is not allowed${why ? ` (${why})` : ''}`,
    [{ path: '/type', message: `${attempted} is not allowed from state '${current}'` }],
  )
}

/**
 * Runs a table-driven transition: `table[event][from]` gives the next state. Sequence checks come
 * first so a stale event is parked even when it would also be illegal now.
 */
export function applyTable<S extends string, E extends SequencedEvent & { type: string }>(
  ref: ObjectRef,
  current: S,
  event: E,
  table: Readonly<Record<string, Partial<Readonly<Record<S, S>>>>>,
): S {
  const row = table[event.type]
  const next = row?.[current]
  if (next === undefined) throw illegalTransition(ref, current, event.type)
  return next
}
