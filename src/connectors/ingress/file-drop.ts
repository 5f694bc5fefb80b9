import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { FieldProblem } from '../../contracts/errors.ts'
import type { RawDelivery } from '../../store/types.ts'

export interface FileDropConfig {
  readonly name: string
  readonly plant: string
  readonly dir: string
  /** files to take; hidden files (`.x.part`, editor temp files) never match */
  readonly pattern?: RegExp
  readonly pollMs?: number
  /**
   * A file must also be unmodified for this long (default 2 s): a writer that pauses between
   * two scans is not mistaken for finished. Set it above the longest write pause of the source.
   */
  readonly settleMs?: number
  readonly clock?: () => number
  /**
   * Structural check before anything is stored: a bad row rejects the whole file (moved to
   * failed/ with an .error.json naming each line), so nothing from it is half-applied.
   */
  readonly check?: (fileName: string, content: Buffer) => FieldProblem[]
  /**
   * The delivery id (the dedup key) of a file whose format names itself, e.g. an X12 interchange
   * by sender and ISA13, so the same content dropped again under another name is a duplicate;
   * undefined, or no function: file name and content hash
   */
  readonly deliveryIdOf?: (fileName: string, content: Buffer) => string | undefined
  /**
   * Runs after a file was stored (or found a duplicate) or refused, before it moves out of the
   * folder: a failure leaves the file to be taken again on the next scan, so the hook must be
   * idempotent (the X12 folder writes its TA1/997 here, src/connectors/edi/x12/inbound.ts).
   */
  readonly afterFile?: (fileName: string, content: Buffer, outcome: FileOutcome) => Promise<void>
}

export type FileOutcome =
  | { readonly stored: true; readonly duplicate: boolean }
  | { readonly stored: false; readonly problems: readonly FieldProblem[] }

export interface FileDrop {
  /** one pass: returns the files stored or rejected in it */
  scanOnce(): Promise<{ stored: string[]; rejected: string[] }>
  close(): Promise<void>
}

/**
 * Watches a folder by polling (network shares do not deliver inotify events). A file is taken
 * only when complete: its size and modification time did not change between two scans and it
 * has not been touched for `settleMs`, so a LIMS that writes in place is not read half-way. Taken files move to processed/ after their
 * raw delivery is committed; a crash in between stores it again, which deduplicates.
 */
export function startFileDrop(cfg: FileDropConfig, store: (d: RawDelivery) => Promise<unknown>): FileDrop {
  const seen = new Map<string, string>()
  const pattern = cfg.pattern ?? /\.csv$/i
  const processed = path.join(cfg.dir, 'processed')
  const failed = path.join(cfg.dir, 'failed')
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let running: Promise<unknown> = Promise.resolve()

  async function scanOnce() {
    await mkdir(processed, { recursive: true })
    await mkdir(failed, { recursive: true })
    const out = { stored: [] as string[], rejected: [] as string[] }
    const names = (await readdir(cfg.dir, { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.') && pattern.test(d.name))
      .map((d) => d.name)
      .sort()
    for (const name of names) {
      const file = path.join(cfg.dir, name)
      const st = await stat(file)
      const signature = `${st.size}:${st.mtimeMs}`
      const settled = (cfg.clock ?? Date.now)() - st.mtimeMs >= (cfg.settleMs ?? 2000)
      if (seen.get(name) !== signature || !settled) {
        seen.set(name, signature) // new, changed since the last scan, or too fresh: wait for it to settle
        continue
      }
      seen.delete(name)
      const content = await readFile(file)
      const problems = cfg.check?.(name, content) ?? []
      if (problems.length > 0) {
        await cfg.afterFile?.(name, content, { stored: false, problems })
        await writeFile(
          path.join(failed, `${name}.error.json`),
          JSON.stringify({ file: name, problems }, null, 2),
        )
        await rename(file, path.join(failed, name))
        out.rejected.push(name)
        continue
      }
      const hash = createHash('sha256').update(content).digest('hex')
      const r = (await store({
        plant: cfg.plant,
        source: cfg.name,
        deliveryId: cfg.deliveryIdOf?.(name, content) ?? `${name}:${hash.slice(0, 16)}`,
        headers: { 'file-name': name, 'content-length': String(content.length) },
        body: content,
      })) as { duplicate?: boolean } | undefined
      await cfg.afterFile?.(name, content, { stored: true, duplicate: r?.duplicate === true })
      await rename(file, path.join(processed, name))
      out.stored.push(name)
    }
    return out
  }

  const loop = () => {
    if (closed) return
    running = scanOnce()
      .catch(() => undefined)
      .finally(() => {
        if (!closed) timer = setTimeout(loop, cfg.pollMs ?? 1000)
      })
  }
  timer = setTimeout(loop, 0)
  return {
    scanOnce: async () => {
      await running
      return scanOnce()
    },
    close: async () => {
      closed = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
