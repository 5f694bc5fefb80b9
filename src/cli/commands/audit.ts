import path from 'node:path'
import type { Command } from 'commander'
import { FileAnchorSink } from '../../audit/anchors.ts'
import { type VerifyReport, verifyAudit } from '../../audit/verify.ts'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { isQualinkError } from '../../contracts/errors.ts'
import { openStore } from '../../store/open.ts'
import { api } from '../api-client.ts'

function print(report: VerifyReport): void {
  if (report.ok) {
    console.log(
      `audit chain OK: ${report.checked} links verified, head ${report.head?.pos ?? 0}, ` +
        `${report.anchorsChecked} anchors matched, ${report.unsealed} rows awaiting the sealer`,
    )
  } else {
    const b = report.firstBroken!
    console.log(
      `audit chain BROKEN at link ${b.pos}${b.auditSeq === null ? '' : ` (audit row ${b.auditSeq})`}: ${b.reason}`,
    )
  }
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('audit trail: verification and export')
  audit
    .command('verify')
    .description('verify the hash chain and its anchors; exits 1 and names the first broken row if tampered')
    .option(
      '--url <url>',
      'a running Qualink to ask (used automatically when the database is owned by a server)',
      'http://127.0.0.1:8080',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { url: string; json?: boolean }) => {
      const rt = runtimeFromEnv()
      let report: VerifyReport
      try {
        const store = await openStore({
          databaseUrl: rt.databaseUrl,
          sqliteFile: path.join(rt.dataDir, 'qualink.db'),
          readWorkers: 0,
        })
        try {
          report = await verifyAudit(store, new FileAnchorSink(path.join(rt.dataDir, 'audit-anchors.jsonl')))
        } finally {
          await store.close()
        }
      } catch (e) {
        // The database belongs to a running server: go through its API instead.
        if (!isQualinkError(e) || e.code !== 'QLK_STORE_LOCKED') throw e
        // with authentication on, as the caller (QUALINK_API_KEY): verification is the auditor's
        report = await api<VerifyReport>({ url: opts.url }, 'GET', '/v1/audit/verify')
      }
      if (opts.json) console.log(JSON.stringify(report, null, 2))
      else print(report)
      process.exitCode = report.ok ? 0 : 1
    })
}
