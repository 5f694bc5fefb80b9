import { toDeadLetter } from './engine-rows.ts'
import type { DeadLetter } from './engine-types.ts'
import { type Scope, type Store, scopeIncludes } from './types.ts'

/** One dead letter by id (standard SQL, both dialects); another plant's answers undefined. */
export async function getDeadLetter(store: Store, scope: Scope, id: number): Promise<DeadLetter | undefined> {
  if (!Number.isSafeInteger(id)) return undefined
  const [row] = await store.sql.all('SELECT * FROM dead_letters WHERE id = ?', [id])
  const dl = row ? toDeadLetter(row) : undefined
  return dl && scopeIncludes(scope, dl.plant) ? dl : undefined
}
