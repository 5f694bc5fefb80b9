import type { Command } from 'commander'
import { formatReport, runSynthetic } from '../../synthetic/run.ts'
import { loadFor } from './change-control.ts'

/**
 * `qualink synthetic run`: one transaction of each enabled workflow through the configured
 * connectors, on the designated test records, each posting taken back; exit 0 only if every
 * step passed (docs/operations.md "Synthetic transactions").
 */
export function registerSyntheticCommands(program: Command): void {
  const synthetic = program
    .command('synthetic')
    .description('synthetic transactions: prove a configuration against its real systems')
  synthetic
    .command('run')
    .description(
      'drive one transaction of each enabled workflow on designated test records, and take it back',
    )
    .option('--config <path>', 'qualink.yaml', './qualink.yaml')
    .option('--env <name>', 'adds qualink.<env>.yaml (dev, test, prod)')
    .option('--plant <plant>', 'one plant (default every plant)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { config: string; env?: string; plant?: string; json?: boolean }) => {
      const report = await runSynthetic(loadFor(o.config, o.env), o.plant ? { plant: o.plant } : {})
      if (o.json) console.log(JSON.stringify(report, null, 2))
      else for (const l of formatReport(report)) console.log(l)
      if (!report.passed) process.exitCode = 1
    })
}
