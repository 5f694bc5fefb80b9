/**
 * One `qualink start --role worker` process of the workers benchmark (bench/workers.ts): the same
 * workflow, translators and shipped connectors as the in-process B3 Qualink, against the parent's
 * simulators and PostgreSQL database. Prints `ready` when started; SIGTERM closes it cleanly.
 * argv: <database url> <ERP simulator url> <QMS simulator url> <anchor file>
 */
import pino from 'pino'
import { startQualink } from '../../src/server/qualink.ts'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { benchTranslators, qualinkPorts } from './pipeline-qualink.ts'

const [dbUrl, erpUrl, qmsUrl, anchorFile] = process.argv.slice(2)
if (!dbUrl || !erpUrl || !qmsUrl || !anchorFile)
  throw new Error('usage: <db url> <erp url> <qms url> <anchor file>')
const store = await PostgresStore.open({ connectionString: dbUrl })
const q = await startQualink({
  store,
  role: 'worker',
  port: 0,
  logger: pino({ level: 'silent' }),
  anchorFile,
  translators: benchTranslators(),
  workflows: [supplierReceiptInspection()],
  ports: qualinkPorts({ erp: { url: erpUrl }, qms: { url: qmsUrl } }),
})
process.stdout.write('ready\n')
process.once('SIGTERM', () => {
  void q
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0))
})
