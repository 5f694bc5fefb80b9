import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { buildRuntime, type RuntimeFragment } from '../../config/build-runtime.ts'
import { loadConfig } from '../../config/load.ts'
import { configForStart, recordStart, type StartConfig } from '../../config/promote.ts'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { createLogger } from '../../observability/logger.ts'
import { tracingSettings } from '../../observability/tracing.ts'
import { loginPolicyFromEnv } from '../../security/sessions.ts'
import { loadUsersFile } from '../../security/users.ts'
import type { ApiKeyConfig } from '../../server/auth.ts'
import { PROCESS_ROLES, type ProcessRole, startQualink } from '../../server/qualink.ts'
import type { Store } from '../../store/types.ts'
import { openConfiguredStore } from '../config-store.ts'

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

/**
 * The configured plant(s) when a qualink.yaml is given or present in the working directory;
 * an explicit --config that does not exist is an error, not a silent empty start. Change control
 * (config/promote.ts): an environment with a promoted version runs that version, and its canary
 * version for the canary plant; what runs is recorded once Qualink is up.
 */
async function configured(file: string | undefined): Promise<{
  fragment: Partial<RuntimeFragment>
  summary?: string
  started?: StartConfig
  record?: (store: Store) => Promise<unknown>
}> {
  const path = file ?? (existsSync('./qualink.yaml') ? './qualink.yaml' : undefined)
  if (path === undefined) return { fragment: {} }
  if (!existsSync(path)) throw new Error(`--config ${path}: no such file`)
  const loaded = loadConfig(path)
  const store = await openConfiguredStore(loaded)
  let started: StartConfig
  try {
    started = await configForStart(store, loaded)
  } finally {
    await store.close()
  }
  const rt = buildRuntime({ ...loaded, config: started.config })
  return {
    fragment: rt.options,
    summary: rt.summary,
    started,
    record: (s) => recordStart(s, loaded, started),
  }
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run Qualink: embedded SQLite in ./data, or PostgreSQL when DATABASE_URL is set')
    .option(
      '--config <path>',
      'qualink.yaml with plants, connectors, ingress and workflows (default ./qualink.yaml if present)',
    )
    .option(
      '--role <role>',
      'all | api (stores and serves, executes nothing) | worker (executes runs) | relay (runs the singletons: ingress subscriptions, relays, schedulers)',
      'all',
    )
    .option('--port <port>', 'HTTP port (QUALINK_PORT)')
    .option('--host <host>', 'bind address (QUALINK_HOST); loopback unless authentication is configured')
    .action(async (opts: { config?: string; port?: string; host?: string; role: string }) => {
      if (!(PROCESS_ROLES as readonly string[]).includes(opts.role))
        throw new Error(`--role must be one of ${PROCESS_ROLES.join(', ')}, got ${opts.role}`)
      const env = runtimeFromEnv()
      const logger = createLogger()
      const { fragment, summary, started, record } = await configured(opts.config)
      // flags over environment variables over the file: a deployment overrides without editing it
      const q = await startQualink({
        ...fragment,
        dataDir: process.env.QUALINK_DATA_DIR ?? fragment.dataDir ?? env.dataDir,
        databaseUrl: env.databaseUrl ?? fragment.databaseUrl,
        host: opts.host ?? process.env.QUALINK_HOST ?? fragment.host ?? env.host,
        port:
          opts.port !== undefined
            ? Number(opts.port)
            : process.env.QUALINK_PORT || process.env.PORT
              ? env.port
              : (fragment.port ?? env.port),
        logger,
        apiKeys: loadApiKeys(process.env.QUALINK_API_KEYS_FILE),
        oidc: loadJsonFile(process.env.QUALINK_OIDC_FILE, 'an object { issuer, audience, jwksUrl, … }'),
        // Dashboard login; Secure cookies over plain HTTP when a proxy in front terminates TLS.
        users: loadUsersFile(process.env.QUALINK_USERS_FILE),
        login: {
          secureCookie: process.env.QUALINK_SESSION_COOKIE_SECURE === 'true',
          ...loginPolicyFromEnv(process.env),
        },
        signatures: loadJsonFile(
          process.env.QUALINK_SIGNATURES_FILE,
          'an object { signers: [{ id, name, passwordHash, plants }], bulkReplayTwoPersonOver }',
        ),
        role: opts.role as ProcessRole,
        tracing: tracingSettings(fragment.tracing, process.env),
      })
      await record?.(q.store)
      if (started?.promoted && started.promoted !== started.fileHash)
        logger.warn(
          { promoted: started.promoted, file: started.fileHash, environment: started.environment },
          'the configuration file differs from the version promoted to this environment: running the promoted version',
        )
      if (started?.canary) logger.info({ canary: started.canary }, 'canary version applied to one plant')
      logger.info({ url: q.url, dialect: q.store.dialect, config: summary ?? 'none' }, 'qualink listening')
      await runUntilSignal(q.close, (m) => logger.info(m))
    })
}

/**
 * API keys from a JSON file (`[{ id, sha256, roles, plants }]`); the file holds hashes only:
 * `printf %s "$KEY" | sha256sum`. Without it Qualink serves loopback only.
 */
export function loadApiKeys(file: string | undefined): ApiKeyConfig[] | undefined {
  if (!file) return undefined
  const keys = JSON.parse(readFileSync(file, 'utf8')) as ApiKeyConfig[]
  if (!Array.isArray(keys)) throw new Error(`${file}: expected a JSON array of { id, sha256, roles, plants }`)
  return keys
}

/**
 * OIDC provider (`QUALINK_OIDC_FILE`) or signers and the two-person rule
 * (`QUALINK_SIGNATURES_FILE`) as JSON; validated where they are used (security/oidc.ts,
 * signatures/service.ts), which name the offending field.
 */
function loadJsonFile<T extends object>(file: string | undefined, expected: string): T | undefined {
  if (!file) return undefined
  const value = JSON.parse(readFileSync(file, 'utf8'))
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${file}: expected ${expected}`)
  return value as T
}
