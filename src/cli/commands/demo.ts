import type { Command } from 'commander'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { createLogger } from '../../observability/logger.ts'
import { startQualink } from '../../server/qualink.ts'
import { runUntilSignal } from './start.ts'

/**
 * `npm start`: Qualink on embedded SQLite in ./data with the plant simulators and a traffic
 * generator. Simulators are imported lazily: nothing else under src/ may import them.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo plant: Qualink on SQLite, simulators, traffic, dashboard')
    .option('--port <port>', 'dashboard/API port', '8080')
    .action(async (opts: { port: string }) => {
      const rt = runtimeFromEnv()
      const logger = createLogger(process.env.QUALINK_LOG_LEVEL ?? 'warn')
      const port = Number(process.env.QUALINK_PORT ?? opts.port)
      const q = await startQualink({ dataDir: rt.dataDir, host: '127.0.0.1', port, logger })
      const { startKernelTraffic } = await import('../../../simulators/traffic/kernel-traffic.ts')
      const traffic = startKernelTraffic({ url: q.url })
      const dashboard = q.url.replace('127.0.0.1', 'localhost')
      console.log(
        [
          '',
          `  Qualink demo is running on embedded SQLite (${rt.dataDir}/qualink.db).`,
          `  Dashboard:  ${dashboard}/`,
          `  API:        ${dashboard}/v1/events   metrics: ${dashboard}/metrics`,
          '  No authentication is configured, so Qualink listens on 127.0.0.1 only.',
          '  Press Ctrl-C to stop; running it again resumes from the same data.',
          '',
        ].join('\n'),
      )
      await runUntilSignal(
        async () => {
          await traffic.stop()
          await q.close()
          const s = traffic.stats
          console.log(
            `  stopped cleanly: ${s.accepted} events stored, ${s.duplicates} redeliveries absorbed, ` +
              `${s.refused} bad events refused, ${s.failed} failed`,
          )
        },
        (m) => console.log(`  ${m}`),
      )
    })
}
