import { Worker } from 'node:worker_threads'
import { assetPath } from '../../assets.ts'

type Row = Record<string, unknown>
interface Pending {
  readonly worker: Worker
  resolve: (rows: Row[]) => void
  reject: (e: Error) => void
}

/**
 * Read-only worker-thread connections for queries that may scan many rows. An idle worker does
 * not keep the process alive (it is unref'd); a worker with a query in flight does, so a process
 * whose only pending work is a pool read waits for the answer instead of exiting without it.
 */
export class ReadPool {
  private readonly workers: Worker[] = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private turn = 0

  constructor(
    private readonly file: string,
    private readonly size: number,
    /** PRAGMA mmap_size of each worker's connection (SqliteOptions.mmapSize) */
    private readonly mmapSize = 0,
  ) {}

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(assetPath('src', 'store', 'sqlite', 'read-worker.mjs'), {
        workerData: { file: this.file, mmapSize: this.mmapSize },
      })
      w.on('message', (m: { id: number; rows?: Row[]; error?: string }) => {
        const p = this.pending.get(m.id)
        if (!p) return
        this.settled(m.id, p)
        if (m.error !== undefined) p.reject(new Error(m.error))
        else p.resolve(m.rows ?? [])
      })
      const fail = (e: Error) => {
        for (const [id, p] of this.pending) {
          if (p.worker !== w) continue
          this.settled(id, p)
          p.reject(e)
        }
      }
      w.on('error', fail)
      // A worker that ends with queries in flight (terminated by close(), or crashed) answers none.
      w.on('exit', (code) => fail(new Error(`SQLite read worker exited (code ${code}) before answering`)))
      w.unref()
      this.workers.push(w)
    }
  }

  /** Whether `w` has a query in flight: then it is ref'd, else not. */
  private busy(w: Worker): boolean {
    for (const p of this.pending.values()) if (p.worker === w) return true
    return false
  }

  private settled(id: number, p: Pending): void {
    this.pending.delete(id)
    if (!this.busy(p.worker)) p.worker.unref()
  }

  query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.workers.length === 0) this.start()
    const id = this.nextId++
    const worker = this.workers[this.turn++ % this.workers.length]!
    return new Promise((resolve, reject) => {
      if (!this.busy(worker)) worker.ref()
      this.pending.set(id, { worker, resolve, reject })
      worker.postMessage({ id, sql, params })
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
    this.workers.length = 0
  }
}
