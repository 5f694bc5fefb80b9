// Heavy reads (traces, exports, verification) run here on their own read-only connection, so
// the event loop that serves ingest never blocks on them. Plain JS: workers are not transpiled.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.file, { readonly: true, fileMustExist: true })
db.pragma('busy_timeout = 5000')
const cache = new Map()

parentPort.on('message', ({ id, sql, params }) => {
  try {
    let stmt = cache.get(sql)
    if (!stmt) {
      stmt = db.prepare(sql)
      cache.set(sql, stmt)
    }
    parentPort.postMessage({ id, rows: stmt.all(...params) })
  } catch (e) {
    parentPort.postMessage({ id, error: String(e?.message ? e.message : e) })
  }
})
