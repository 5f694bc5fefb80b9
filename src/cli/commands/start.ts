import type { Command } from 'commander'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { createLogger } from '../../observability/logger.ts'
import { startQualink } from '../../server/qualink.ts'

/** Runs until SIGINT/SIGTERM, then shuts down in order (see server/qualink.ts). */
export async function runUntilSignal(close: () => Promise<void>, log: (msg: string) => void): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (sig: string) => {
      if (stopping) return
      stopping = true
      log(`${sig} received: draining the write queue and shutting down`)
      close().then(resolve, (e) => {
        console.error(e)
        process.exitCode = 1
        resolve()
      })
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run Qualink: embedded SQLite in ./data, or PostgreSQL when DATABASE_URL is set')
    .option('--port <port>', 'HTTP port (QUALINK_PORT)')
    .option('--host <host>', 'bind address (QUALINK_HOST); loopback unless authentication is configured')
    .action(async (opts: { port?: string; host?: string }) => {
      const rt = runtimeFromEnv()
      const logger = createLogger()
      const q = await startQualink({
        dataDir: rt.dataDir,
        databaseUrl: rt.databaseUrl,
        host: opts.host ?? rt.host,
        port: opts.port === undefined ? rt.port : Number(opts.port),
        logger,
      })
      logger.info({ url: q.url, dialect: q.store.dialect }, 'qualink listening')
      await runUntilSignal(q.close, (m) => logger.info(m))
    })
}
