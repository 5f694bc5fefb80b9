import { createHash } from 'node:crypto'
import pg from 'pg'

/** distinct statement texts prepared per connection; texts beyond it run unnamed (parsed each time) */
const MAX_PREPARED = 256

/**
 * A node-postgres client that runs every parameterised statement as a named prepared statement,
 * so PostgreSQL parses and plans it once per connection instead of on every call. The name is a
 * hash of the text. Texts without parameters (BEGIN, COMMIT, multi-statement scripts) and texts
 * beyond MAX_PREPARED distinct ones per connection stay unnamed. The write path's group insert
 * (unnest over eleven arrays, ON CONFLICT, RETURNING) was where planning showed: measured with a
 * query-timing probe on this machine, naming it and folding the audit statements took a one-event
 * group from ~2.9 ms to ~1.8 ms (see the Kernel I ingest numbers in bench/README.md).
 */
export class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>()

  // biome-ignore lint/suspicious/noExplicitAny: node-postgres's constructor takes its config as is
  constructor(config?: any) {
    super(config)
    // A connection the server ends (restart, pg_terminate_backend: FATAL 57P01) emits 'error'; with
    // no listener that is an uncaught exception. The pool and the failing query see the error
    // through their own listeners and callbacks; this one only keeps the process alive in the
    // moments no other listener is attached (e.g. a client pool.query released and the pool
    // handed to a waiting checkout while the FATAL was in the same network read).
    this.on('error', () => {})
  }
  /** the last statement sent and when (Date.now()): named when a client is not released at close */
  lastStatement: { readonly text: string; readonly atMs: number } | undefined

  // biome-ignore lint/suspicious/noExplicitAny: forwards node-postgres's overloaded query() unchanged
  override query(config: any, values?: any, callback?: any): any {
    const text = typeof config === 'string' ? config : config?.text
    if (typeof text === 'string') this.lastStatement = { text, atMs: Date.now() }
    if (typeof config === 'string' && Array.isArray(values)) {
      const name = this.nameOf(config)
      if (name) return super.query({ name, text: config, values }, callback)
    }
    return super.query(config, values, callback)
  }

  private nameOf(text: string): string | undefined {
    let name = this.names.get(text)
    if (name === undefined && this.names.size < MAX_PREPARED) {
      name = `q${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
      this.names.set(text, name)
    }
    return name
  }
}
