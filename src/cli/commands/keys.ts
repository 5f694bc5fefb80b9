import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { buildRuntime } from '../../config/build-runtime.ts'
import { loadConfig } from '../../config/load.ts'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { QualinkError } from '../../contracts/errors.ts'
import type { FieldCipher } from '../../security/encryption.ts'
import { type RotationReport, rotateKeys } from '../../security/encryption-rotate.ts'
import { openStore } from '../../store/open.ts'
import type { Store } from '../../store/types.ts'

/**
 * The keys qualink.yaml configures (`security.encryption`, each secret read from its secretEnv or
 * secretFile as the server reads it), for the key commands and `audit verify-bundle --keys`.
 */
export function loadCipher(configFile: string): { cipher: FieldCipher; rt: ReturnType<typeof buildRuntime> } {
  if (!existsSync(configFile)) throw new Error(`--config ${configFile}: no such file`)
  const rt = buildRuntime(loadConfig(configFile))
  const cipher = rt.options.encryption
  if (!cipher)
    throw new QualinkError('QLK_CONFIG_INVALID', `${configFile}: no security.encryption configured`, [
      { path: '/security/encryption', message: 'is required for key commands and --keys' },
    ])
  return { cipher, rt }
}

/** The configured cipher and the (raw) store it applies to: the database named by env or the file. */
async function open(configFile: string): Promise<{ cipher: FieldCipher; store: Store }> {
  const { cipher, rt } = loadCipher(configFile)
  const env = runtimeFromEnv()
  const dataDir = process.env.QUALINK_DATA_DIR ?? rt.options.dataDir ?? env.dataDir
  // On SQLite the file belongs to one process: stop the server first (QLK_STORE_LOCKED otherwise).
  const store = await openStore({
    databaseUrl: env.databaseUrl ?? rt.options.databaseUrl,
    sqliteFile: path.join(dataDir, 'qualink.db'),
    readWorkers: 0,
  })
  return { cipher, store }
}

function print(r: RotationReport, verb: string): void {
  const keys = Object.entries(r.byKey)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ')
  console.log(
    `${verb}: ${r.rowsScanned} rows scanned, ${r.rowsRewritten} rewritten, ${r.valuesReencrypted} values re-encrypted; ` +
      `values by key: ${keys || 'none'}`,
  )
  const left = Object.entries(r.remaining)
  console.log(
    left.length === 0
      ? `0 values left under keys other than '${r.to}': older keys may be removed from qualink.yaml`
      : `values left under other keys: ${left.map(([k, n]) => `${k}: ${n}`).join(', ')}; keep those keys configured`,
  )
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('field-level encryption keys: status and rotation')
  keys
    .command('rotate')
    .description('re-encrypt every stored encrypted value under --to (the active key), in batches; resumable')
    .requiredOption('--to <keyId>', 'the key to re-encrypt under; must be security.encryption.activeKey')
    .option('--config <path>', 'qualink.yaml', './qualink.yaml')
    .option('--batch <rows>', 'rows per transaction', '500')
    .action(async (opts: { to: string; config: string; batch: string }) => {
      const { cipher, store } = await open(opts.config)
      try {
        // New writes use the active key: rotating to another one would leave fresh values behind.
        if (opts.to !== cipher.activeKey)
          throw new QualinkError(
            'QLK_CONFIG_INVALID',
            `--to ${opts.to} is not the active key '${cipher.activeKey}'`,
            [
              {
                path: '/security/encryption/activeKey',
                message: `set it to '${opts.to}' and restart Qualink first`,
              },
            ],
          )
        const report = await rotateKeys(store, cipher, {
          to: opts.to,
          batch: Number(opts.batch),
          onBatch: (p) =>
            console.error(`… ${p.rowsScanned} rows scanned, ${p.valuesReencrypted} re-encrypted`),
        })
        print(report, 'rotation done')
        process.exitCode = Object.keys(report.remaining).length === 0 ? 0 : 1
      } finally {
        await store.close()
      }
    })
  keys
    .command('status')
    .description('count the stored encrypted values under each key id (reads only)')
    .option('--config <path>', 'qualink.yaml', './qualink.yaml')
    .action(async (opts: { config: string }) => {
      const { cipher, store } = await open(opts.config)
      try {
        print(await rotateKeys(store, cipher, { to: cipher.activeKey, dryRun: true }), 'status')
      } finally {
        await store.close()
      }
    })
}
