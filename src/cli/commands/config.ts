import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { buildRuntime } from '../../config/build-runtime.ts'
import { loadConfig } from '../../config/load.ts'
import { isQualinkError } from '../../contracts/errors.ts'
import { registerChangeControlCommands } from './change-control.ts'

export const DEFAULT_CONFIG_FILE = './qualink.yaml'

/**
 * `qualink config validate [path]`: every problem with its path in the file, exit 1; or one
 * summary line, exit 0. `--secrets` also reads every secret reference and instantiates the
 * connectors (what `qualink start` does), for a check on the target machine.
 */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('qualink.yaml: plants, connectors, ingress, workflows')
  config
    .command('validate')
    .argument('[path]', 'configuration file (QUALINK_ENV=dev|test|prod adds qualink.<env>.yaml)')
    .option('--secrets', 'also resolve secrets and build the connectors, as `qualink start` does')
    .description('check a configuration; lists every problem with its path in the file')
    .action((file: string | undefined, opts: { secrets?: boolean }) => {
      const path = file ?? DEFAULT_CONFIG_FILE
      if (!existsSync(path)) {
        console.error(`${path}: no such file`)
        process.exitCode = 1
        return
      }
      try {
        const loaded = loadConfig(path)
        const c = loaded.config
        const summary = opts.secrets
          ? buildRuntime(loaded).summary
          : `${Object.keys(c.plants).length} plants (${Object.keys(c.plants).join(', ')}), ` +
            `${Object.keys(c.connectors ?? {}).length} connectors, ` +
            `${Object.values(c.ingress ?? {}).reduce((n, s) => n + Object.keys(s ?? {}).length, 0)} ingress sources`
        console.log(`${loaded.files.join(' + ')}: valid — ${summary}`)
      } catch (e) {
        if (!isQualinkError(e)) throw e
        console.error(`${e.code}: ${e.message}`)
        for (const p of e.errors) console.error(`  ${p.path}: ${p.message}`)
        process.exitCode = 1
      }
    })
  registerChangeControlCommands(config)
}
