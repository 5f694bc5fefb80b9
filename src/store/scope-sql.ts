import type { Scope } from './types.ts'

/**
 * The mandatory plant filter as SQL. `placeholder(i)` renders the i-th parameter in the
 * dialect's style (`?` or `$n`); `first` is the index of the first parameter it may use.
 */
export function scopeClause(
  scope: Scope,
  column: string,
  placeholder: (i: number) => string,
  first: number,
): { sql: string; params: string[] } {
  if ('allPlants' in scope) return { sql: 'TRUE', params: [] }
  if (scope.plants.length === 0) return { sql: 'FALSE', params: [] }
  const marks = scope.plants.map((_, i) => placeholder(first + i))
  return { sql: `${column} IN (${marks.join(', ')})`, params: [...scope.plants] }
}
