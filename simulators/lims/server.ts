/**
 * LIMS simulator: drops CSV result files into a folder. Normal writes go to a hidden temp name
 * (`.<name>.part`) and are renamed when complete, so a watcher that only picks `*.csv` never sees
 * a partial file. `beginSlowWrite` leaves a half-written file for tests, either under the temp
 * name (well-behaved LIMS) or in place under the final name (a LIMS that does not rename).
 */
import { mkdir, open, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { HttpError, type HttpSim, Router, startHttpSim } from '../shared/http.ts'
import { type ResultRow, toCsv } from './csv.ts'

export interface LimsOptions {
  readonly dir: string
  readonly port?: number
  readonly host?: string
  readonly faults?: Partial<FaultConfig>
}

export interface SlowWrite {
  /** Where the bytes are right now (temp name, or the final name in place-mode). */
  readonly currentPath: string
  readonly finalPath: string
  /** Writes the first half of the file. */
  writeHalf(): Promise<void>
  /** Writes the rest and (unless in-place) renames to the final name. */
  finish(): Promise<string>
}

export interface LimsState {
  readonly files: Array<{ name: string; rows: number; duplicate: boolean }>
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface LimsSim {
  readonly url: string
  readonly dir: string
  readonly state: LimsState
  readonly faults: Faults
  /** Writes one complete file atomically; resolves with its final path(s) once visible. */
  writeResults(rows: readonly ResultRow[], opts?: { fileName?: string }): Promise<string[]>
  beginSlowWrite(
    rows: readonly ResultRow[],
    opts?: { fileName?: string; inPlace?: boolean },
  ): Promise<SlowWrite>
  /** Writes files held back by the out-of-order fault. */
  flush(): Promise<void>
  close(): Promise<void>
}

export async function startLims(opts: LimsOptions): Promise<LimsSim> {
  await mkdir(opts.dir, { recursive: true })
  const faults = new Faults(opts.faults)
  const files: LimsState['files'] = []
  let seq = 0
  let heldBack: Array<() => Promise<void>> = []
  const nextName = (rows: readonly ResultRow[]) => {
    seq += 1
    return `results-${String(seq).padStart(6, '0')}-${(rows[0]?.sampleId ?? 'empty').replace(/[^\w.-]/g, '_')}.csv`
  }
  const tempOf = (name: string) => path.join(opts.dir, `.${name}.part`)

  const atomicWrite = async (name: string, content: string, rows: number, duplicate: boolean) => {
    await writeFile(tempOf(name), content)
    const latency = faults.callbackLatencyMs()
    if (latency > 0) await delay(latency)
    await rename(tempOf(name), path.join(opts.dir, name))
    files.push({ name, rows, duplicate })
  }

  const flush = async () => {
    const held = heldBack
    heldBack = []
    for (const h of held) await h()
  }

  const writeResults: LimsSim['writeResults'] = async (rows, o = {}) => {
    const name = o.fileName ?? nextName(rows)
    const content = toCsv(rows)
    const fault = faults.decideCallback()
    const names = [name]
    // A LIMS "re-export" produces the same rows again under a new file name.
    const dupName = name.replace(/\.csv$/, '-reexport.csv')
    const job = async () => {
      await atomicWrite(name, content, rows.length, false)
      if (fault === 'duplicate') await atomicWrite(dupName, content, rows.length, true)
    }
    if (fault === 'duplicate') names.push(dupName)
    if (fault === 'out-of-order') heldBack.push(job)
    else {
      await job()
      await flush()
    }
    return names.map((n) => path.join(opts.dir, n))
  }

  const beginSlowWrite: LimsSim['beginSlowWrite'] = async (rows, o = {}) => {
    const name = o.fileName ?? nextName(rows)
    const finalPath = path.join(opts.dir, name)
    const currentPath = o.inPlace ? finalPath : tempOf(name)
    const bytes = Buffer.from(toCsv(rows))
    const half = Math.floor(bytes.length / 2)
    const fh = await open(currentPath, 'w')
    return {
      currentPath,
      finalPath,
      async writeHalf() {
        await fh.write(bytes.subarray(0, half))
        await fh.sync()
      },
      async finish() {
        await fh.write(bytes.subarray(half))
        await fh.close()
        if (!o.inPlace) await rename(currentPath, finalPath)
        files.push({ name, rows: rows.length, duplicate: false })
        return finalPath
      },
    }
  }

  const router = new Router().on('POST', /^\/api\/v1\/results$/, async (req) => {
    const b = req.json() as { rows?: ResultRow[]; slowMs?: number }
    if (!Array.isArray(b?.rows)) throw new HttpError(400, { error: 'rows[] is required' })
    if (b.slowMs) {
      const w = await beginSlowWrite(b.rows)
      await w.writeHalf()
      await delay(b.slowMs)
      return { status: 201, body: { files: [await w.finish()] } }
    }
    return { status: 201, body: { files: await writeResults(b.rows) } }
  })
  const state = (): LimsState => ({
    files: [...files],
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  })
  const http = await startHttpSim({ host: opts.host, port: opts.port, router, faults, state })
  return {
    url: http.url,
    dir: opts.dir,
    get state() {
      return state()
    },
    faults,
    writeResults,
    beginSlowWrite,
    flush,
    close: () => http.close(),
  }
}
