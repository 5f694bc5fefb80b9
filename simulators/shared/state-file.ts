/**
 * A simulator's durable state for the demo (`npm start` resumes from ./data): the model as one
 * JSON file, read at start and written atomically — a temporary file in the same folder renamed
 * over the old one, so a crash leaves the old or the new state, never half of one (rename(2)
 * replaces the target atomically on POSIX). It is written when the state changed, checked every
 * `everyMs` (a debounce: many changes in a second are one write), and on close.
 * Simulators without a `stateFile` option stay in memory, as every test uses them.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** The file's layout version; a file of another version is refused with its path. */
const FORMAT = 1

/** The state saved in `file`, or undefined when there is none yet. */
export function readStateFile<T>(file: string): T | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  let parsed: { format?: unknown; state?: T }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch (e) {
    throw new Error(
      `${file}: not a simulator state file (${(e as Error).message}); delete it to start afresh`,
    )
  }
  if (parsed.format !== FORMAT || parsed.state === undefined)
    throw new Error(
      `${file}: simulator state format ${String(parsed.format)}, expected ${FORMAT}; delete it to start afresh`,
    )
  return parsed.state
}

export interface StateWriter {
  /** writes the state now when it changed since the last write */
  flush(): void
  /** stops the timer and writes a last time */
  close(): void
}

export function writeStateFile(file: string, snapshot: () => unknown, everyMs = 1000): StateWriter {
  mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  let last = ''
  const flush = () => {
    const text = JSON.stringify({ format: FORMAT, state: snapshot() })
    if (text === last) return
    try {
      writeFileSync(tmp, text)
      renameSync(tmp, file)
      last = text
    } catch (e) {
      rmSync(tmp, { force: true })
      throw e
    }
  }
  const timer = setInterval(() => {
    try {
      flush()
    } catch (e) {
      // a full disk must not crash the demo: the next tick tries again, close() reports it
      process.emitWarning(`simulator state ${file} not written: ${(e as Error).message}`)
    }
  }, everyMs)
  timer.unref()
  return {
    flush,
    close() {
      clearInterval(timer)
      flush()
    },
  }
}
