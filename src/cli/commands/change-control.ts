import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { type LoadedConfig, loadConfig } from '../../config/load.ts'
import { promoteConfig } from '../../config/promote.ts'
import {
  getConfigVersion,
  listConfigChanges,
  promotionState,
  rollbackConfig,
} from '../../config/version-store.ts'
import { diffConfigs, formatDiff, versionOf } from '../../config/versions.ts'
import type { Store } from '../../store/types.ts'
import { formatReport } from '../../synthetic/run.ts'
import { openConfiguredStore, operator } from '../config-store.ts'

/** qualink.yaml (+ qualink.<env>.yaml when --env names one) */
export function loadFor(file: string, environment: string | undefined): LoadedConfig {
  if (!existsSync(file)) throw new Error(`${file}: no such file`)
  return loadConfig(file, environment ? { ...process.env, QUALINK_ENV: environment } : process.env)
}

async function withStore<T>(loaded: LoadedConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openConfiguredStore(loaded)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** A stored version (hash or 8+ digit prefix) or a configuration file, as a document. */
async function documentOf(store: Store, ref: string, environment: string | undefined) {
  if (existsSync(ref)) {
    const loaded = loadFor(ref, environment)
    return {
      label: `${loaded.files.join(' + ')} (${versionOf(loaded.config).hash.slice(0, 12)})`,
      doc: loaded.config,
    }
  }
  const v = await getConfigVersion(store, ref)
  return { label: v.hash.slice(0, 12), doc: v.document }
}

const CONFIG_OPTION = [
  '--config <path>',
  'qualink.yaml naming the store (as qualink start)',
  './qualink.yaml',
] as const

/** `qualink config versions | diff | promote | rollback` (docs/operations.md "Change control"). */
export function registerChangeControlCommands(config: Command): void {
  config
    .command('versions')
    .description(
      'configuration versions loaded, promoted, sent to a canary plant or rolled back, oldest first',
    )
    .option(...CONFIG_OPTION)
    .option('--env <name>', 'one environment only (dev, test, prod)')
    .option('--json', 'print JSON')
    .action(async (o: { config: string; env?: string; json?: boolean }) => {
      await withStore(loadFor(o.config, o.env), async (store) => {
        const changes = await listConfigChanges(store, o.env ? { environment: o.env } : {})
        const state = o.env ? await promotionState(store, o.env) : undefined
        if (o.json) {
          console.log(JSON.stringify({ changes, ...(state ? { state } : {}) }, null, 2))
          return
        }
        for (const c of changes)
          console.log(
            `${new Date(c.atMs).toISOString()}  ${c.environment.padEnd(7)} ${c.action.padEnd(11)} ${c.hash.slice(0, 12)}  ${c.actor}${c.plant ? `  plant ${c.plant}` : ''}`,
          )
        if (changes.length === 0) console.log('no configuration versions recorded')
        if (state)
          console.log(
            `${o.env}: current ${state.current?.slice(0, 12) ?? 'none'}, previous ${state.previous?.slice(0, 12) ?? 'none'}` +
              (state.canary ? `, canary ${state.canary.hash.slice(0, 12)} on ${state.canary.plant}` : ''),
          )
      })
    })
  config
    .command('diff')
    .description(
      'paths changed from <a> to <b> (each a version hash, 8+ digit prefix, or a file); secrets redacted',
    )
    .argument('<a>')
    .argument('<b>')
    .option(...CONFIG_OPTION)
    .option('--env <name>', 'overlay used when <a> or <b> is a file')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, o: { config: string; env?: string; json?: boolean }) => {
      await withStore(loadFor(o.config, o.env), async (store) => {
        const from = await documentOf(store, a, o.env)
        const to = await documentOf(store, b, o.env)
        const changes = diffConfigs(from.doc, to.doc)
        if (o.json) {
          console.log(JSON.stringify({ from: from.label, to: to.label, changes }, null, 2))
          return
        }
        console.log(`--- ${from.label}\n+++ ${to.label}`)
        for (const l of formatDiff(changes)) console.log(l)
        console.log(`${changes.length} path${changes.length === 1 ? '' : 's'} changed`)
      })
    })
  config
    .command('promote')
    .description(
      'run the synthetic transactions against a configuration and record it as promoted only if they pass',
    )
    .requiredOption('--from <file>', 'the configuration to promote (qualink.yaml)')
    .requiredOption(
      '--env <name>',
      'the environment it is promoted to (dev, test, prod); adds qualink.<env>.yaml',
    )
    .option('--canary-plant <plant>', 'promote for this plant first: `qualink start` runs it on this version')
    .option('--json', 'print JSON')
    .action(async (o: { from: string; env: string; canaryPlant?: string; json?: boolean }) => {
      const loaded = loadFor(o.from, o.env)
      await withStore(loaded, async (store) => {
        const r = await promoteConfig(store, loaded, {
          environment: o.env,
          actor: operator(),
          ...(o.canaryPlant ? { canaryPlant: o.canaryPlant } : {}),
        })
        if (o.json) {
          console.log(JSON.stringify(r, null, 2))
          return
        }
        for (const l of formatReport(r.report)) console.log(l)
        console.log(
          o.canaryPlant
            ? `${r.change.hash.slice(0, 12)} recorded as canary on plant ${o.canaryPlant} in ${o.env} by ${r.change.actor}`
            : `${r.change.hash.slice(0, 12)} promoted to ${o.env} by ${r.change.actor}`,
        )
      })
    })
  config
    .command('rollback')
    .description('make the previously promoted version of an environment current again (drops a canary)')
    .requiredOption('--env <name>', 'the environment (dev, test, prod)')
    .option(...CONFIG_OPTION)
    .action(async (o: { env: string; config: string }) => {
      await withStore(loadFor(o.config, o.env), async (store) => {
        const c = await rollbackConfig(store, o.env, operator())
        const from = String(c.detail.from ?? '').slice(0, 12)
        console.log(`${o.env}: rolled back from ${from} to ${c.hash.slice(0, 12)} by ${c.actor}`)
        console.log(
          `run ${c.hash.slice(0, 12)}: \`qualink config diff ${from} ${c.hash.slice(0, 12)}\` shows what changed back; deploy that version's files`,
        )
      })
    })
}
