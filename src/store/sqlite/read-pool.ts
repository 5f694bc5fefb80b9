import { Worker } from 'node:worker_threads'
import { assetPath } from '../../assets.ts'

type Row = Record<string, unknown>
interface Pending {
  resolve: (rows: Row[]) => void
  reject: (e: Error) => void
}

/** Read-only worker-thread connections for queries that may scan many rows. */
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
        this.pending.delete(m.id)
        if (m.error !== undefined) p.reject(new Error(m.error))
        else p.resolve(m.rows ?? [])
      })
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e)
        this.pending.clear()
      })
      w.unref()
      this.workers.push(w)
    }
  }

  query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.workers.length === 0) this.start()
    const id = this.nextId++
    const worker = this.workers[this.turn++ % this.workers.length]!
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, sql, params })
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
    this.workers.length = 0
  }
}
