// Heavy reads (traces, exports, verification) run here on their own read-only connection, so
// the event loop that serves ingest never blocks on them. Plain JS: workers are not transpiled.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.file, { readonly: true, fileMustExist: true })
db.pragma('busy_timeout = 5000')
// Read through a memory map as the store's main connection does (SqliteOptions.mmapSize in store.ts).
db.pragma(`mmap_size = ${Number(workerData.mmapSize ?? 0)}`)
// Prepared statements by SQL text, least recently used dropped first: texts built with a list of
// `?` per value are a new statement for each length, and a connection that lives as long as the
// process must not keep every one of them.
const MAX_STATEMENTS = 100
const cache = new Map()

function statement(sql) {
  let stmt = cache.get(sql)
  if (stmt) cache.delete(sql)
  else {
    stmt = db.prepare(sql)
    if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value)
  }
  cache.set(sql, stmt) // a Map iterates in insertion order: the last set is the most recent
  return stmt
}

parentPort.on('message', ({ id, sql, params }) => {
  try {
    const stmt = statement(sql)
    parentPort.postMessage({ id, rows: stmt.all(...params) })
  } catch (e) {
    parentPort.postMessage({ id, error: String(e?.message ? e.message : e) })
  }
})
