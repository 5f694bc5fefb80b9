import pg from 'pg'

/**
 * A parameterised statement with its values written in as literals, for a multi-statement simple
 * query (one round trip, one implicit transaction; a simple query carries no parameters). Each
 * `$n` becomes the literal of values[n-1] in the form the extended protocol would have sent it as
 * text: the statement's own casts (`$2::int[]`) and the column a bare `$n` is compared with or
 * assigned to type it, as they type a parameter. null → NULL, number (finite) → its digits,
 * boolean → true/false, string → an escaped literal (pg.escapeLiteral), array of those → an array
 * literal (https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO). The statement texts are
 * ours: none holds `$n` inside a quoted string.
 */
export function inlineParams(sql: string, values: readonly unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1
    if (i < 0 || i >= values.length) throw new Error(`inlineParams: $${n} has no value`)
    return sqlLiteral(values[i])
  })
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`inlineParams: ${v} is not a finite number`)
    // parenthesised when negative: `$1-$2` must not become `5--3` (a comment)
    return v < 0 ? `(${v})` : String(v === 0 ? 0 : v)
  }
  if (typeof v === 'string') return pg.escapeLiteral(v)
  throw new Error(`inlineParams: a ${typeof v} cannot be written as a literal`)
}

/** One value as a literal (inlineParams' rule): for EXECUTE's arguments in a simple query. */
export function sqlLiteral(v: unknown): string {
  if (!Array.isArray(v)) return scalar(v)
  let out = '{'
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i]
    if (i > 0) out += ','
    if (e === null || e === undefined) out += 'NULL'
    else if (typeof e === 'string') out += `"${e.replace(/[\\"]/g, (c) => `\\${c}`)}"`
    else if (typeof e === 'boolean') out += e ? 'true' : 'false'
    else if (typeof e === 'number' && Number.isFinite(e))
      out += String(e) // inside the literal: no parentheses
    else throw new Error(`inlineParams: an array element of type ${typeof e} cannot be written`)
  }
  return pg.escapeLiteral(`${out}}`)
}
