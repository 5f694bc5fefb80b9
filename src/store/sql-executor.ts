/**
 * The smallest common ground of the two dialects, for store parts whose SQL is standard (no
 * dialect-specific syntax): one implementation serves both. Queries use `?` placeholders; the
 * PostgreSQL executor renumbers them to `$n`.
 */
export type Row = Record<string, unknown>

export interface SqlExecutor {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>
  run(sql: string, params?: readonly unknown[]): Promise<number>
  /** runs `fn` in one transaction with an executor bound to it */
  tx<T>(fn: (x: SqlExecutor) => Promise<T>): Promise<T>
  /**
   * A subquery whose rows are the elements of one bound parameter, a JSON array (pass
   * `JSON.stringify(values)`): columns `column1, column2, …` of the given types (one column: the
   * array holds the values; more: it holds arrays of them). One statement text whatever the number
   * of values, so it is prepared once and its plan does not depend on a list's length (an
   * `IN (?, ?, …)` list is a new statement for every length, and longer than SQLite's bound
   * parameter limit is not possible at all).
   */
  jsonRows(types: readonly ListType[]): string
  /**
   * How many reads this executor runs at the same time: on PostgreSQL each `all` outside a
   * transaction takes its own pooled connection (its own server process), so a read split in parts
   * runs on as many cores; absent means one at a time. SQLite: its connection is synchronous, and
   * its read workers were measured no faster for a trace page's reads than the main connection
   * (the rows cross threads by copy; bench/README.md, "Issue 7", 2026-11-29).
   */
  readonly parallelReads?: number
}

export type ListType = 'text' | 'bigint'

/** `?` → `$1, $2, …` (no `?` appears inside our SQL string literals). */
export function numbered(sql: string): string {
  let i = 0
  return sql.replace(/\?/g, () => `$${++i}`)
}

export function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ')
}
