/**
 * The Qualink of the soak (bench/soak.ts), in a process of its own so that its memory is measured
 * alone (the simulators and the feed, which keep every lot they saw, stay in the parent). The same
 * Qualink as B3's (bench/lib/pipeline-qualink.ts: every role, the shipped connectors, PostgreSQL).
 * IPC: sends {type: 'ready', url} once started; answers each 'sample' message with its own
 * process.memoryUsage(), the event-loop delay since the previous sample (perf_hooks
 * monitorEventLoopDelay, 10 ms resolution) and its event-loop utilisation over that time.
 * 'stop' (or SIGTERM) closes it cleanly.
 * argv: <database url> <ERP simulator url> <QMS simulator url> <anchor file>
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import pino from 'pino'
import { startQualink } from '../../src/server/qualink.ts'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { BENCH_WEBHOOKS, benchTranslators, qualinkPorts } from './pipeline-qualink.ts'

export interface SoakProcessSample {
  readonly type: 'sample'
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  /** event-loop delay over the window, ms */
  readonly lagP99Ms: number
  readonly lagMaxMs: number
  /** share of the window the event loop was busy, 0..1 */
  readonly elu: number
}

const [dbUrl, erpUrl, qmsUrl, anchorFile] = process.argv.slice(2)
if (!dbUrl || !erpUrl || !qmsUrl || !anchorFile || !process.send)
  throw new Error('usage (with an IPC channel): <db url> <erp url> <qms url> <anchor file>')
const send = process.send.bind(process)
const store = await PostgresStore.open({ connectionString: dbUrl })
const q = await startQualink({
  store,
  port: 0,
  logger: pino({ level: 'silent' }),
  anchorFile,
  webhooks: BENCH_WEBHOOKS,
  translators: benchTranslators(),
  workflows: [supplierReceiptInspection()],
  ports: qualinkPorts({ erp: { url: erpUrl }, qms: { url: qmsUrl } }),
})
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()
let elu = performance.eventLoopUtilization()

let closing: Promise<void> | undefined
const stop = () => {
  closing ??= q
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0))
  return closing
}
process.on('message', (m) => {
  if (m === 'stop') void stop()
  else if (m === 'sample') {
    const mem = process.memoryUsage()
    const now = performance.eventLoopUtilization()
    const sample: SoakProcessSample = {
      type: 'sample',
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      lagP99Ms: lag.percentile(99) / 1e6,
      lagMaxMs: lag.max / 1e6,
      elu: performance.eventLoopUtilization(now, elu).utilization,
    }
    elu = now
    lag.reset()
    send(sample)
  }
})
process.once('SIGTERM', () => void stop())
send({ type: 'ready', url: q.url })
