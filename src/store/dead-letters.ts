import { toDeadLetter } from './engine-rows.ts'
import type { DeadLetter } from './engine-types.ts'
import { type Scope, type Store, scopeIncludes } from './types.ts'

/**
 * The connector filter's word for failures no connector call caused (a workflow rule, a stale
 * event, older rows): the dashboard's group name, accepted by the API and the CLI too.
 */
export const NO_CONNECTOR = '(none)'

/** A connector filter as the store takes it: undefined for any, null for {@link NO_CONNECTOR}. */
export function connectorFilter(name: string | undefined): string | null | undefined {
  if (!name) return undefined
  return name === NO_CONNECTOR ? null : name
}

/** One dead letter by id (standard SQL, both dialects); another plant's answers undefined. */
export async function getDeadLetter(store: Store, scope: Scope, id: number): Promise<DeadLetter | undefined> {
  if (!Number.isSafeInteger(id)) return undefined
  const [row] = await store.sql.all('SELECT * FROM dead_letters WHERE id = ?', [id])
  const dl = row ? toDeadLetter(row) : undefined
  return dl && scopeIncludes(scope, dl.plant) ? dl : undefined
}

/**
 * Replays one dead letter as `actor`, audited as `dead_letter.replayed` with the dead letter, its
 * run and its error code (`extra` joins that payload): the dead letter as replayed (its run made
 * due again), or undefined when it is no longer open. The API, the dashboard and a bulk replay all replay this way.
 */
export function replayDeadLetterAs(
  store: Store,
  scope: Scope,
  actor: string,
  dl: DeadLetter,
  extra: Record<string, unknown> = {},
): Promise<DeadLetter | undefined> {
  return store.engine.replayDeadLetter(scope, dl.id, 0, {
    actor,
    action: 'dead_letter.replayed',
    subject: dl.key,
    correlationId: null,
    payload: { deadLetterId: dl.id, runId: dl.runId, errorCode: dl.errorCode, ...extra },
  })
}
