import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { QualinkError } from '../../contracts/errors.ts'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One process owns an SQLite database file: a second server on the same file would break the
 * single-writer assumption the group commit relies on. The lock names the owner's pid; a lock
 * left by a dead process (kill -9) is taken over.
 */
export function acquireLockFile(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath)
        } catch {
          // already gone: nothing to release
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const owner = Number(readFileSync(lockPath, 'utf8').trim())
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new QualinkError(
          'QLK_STORE_LOCKED',
          `database is owned by process ${owner} (lock file ${lockPath}); while a server runs, use the CLI against its API`,
        )
      }
      unlinkSync(lockPath)
    }
  }
  throw new QualinkError('QLK_STORE_LOCKED', `could not take the lock file ${lockPath}`)
}
