/**
 * Change control, the stored part (migration 0010, standard SQL on both dialects): each distinct
 * configuration once by hash, an append-only history of what happened to it per environment, and
 * an audit row for every change in the same transaction (as signatures do), so the hash-chained
 * audit log says who loaded, promoted or rolled back which version, and when (the DB clock).
 */
import { hashCanonical } from '../audit/canonical-json.ts'
import { QualinkError } from '../contracts/errors.ts'
import type { Row } from '../store/sql-executor.ts'
import type { Store } from '../store/types.ts'
import { versionOf } from './versions.ts'

export const CONFIG_ACTIONS = ['loaded', 'promoted', 'canary', 'rolled-back'] as const
export type ConfigAction = (typeof CONFIG_ACTIONS)[number]

/** Environment name of a configuration loaded without QUALINK_ENV / --env. */
export const NO_ENVIRONMENT = 'default'
/** Configuration is not per plant: its audit rows carry the wildcard plant. */
const CONFIG_PLANT = '*'

export interface ConfigChangeRow {
  readonly id: number
  readonly hash: string
  readonly action: ConfigAction
  readonly environment: string
  readonly plant: string | null
  readonly actor: string
  readonly atMs: number
  readonly detail: Record<string, unknown>
}

export interface RecordConfigInput {
  readonly config: unknown
  readonly files: readonly string[]
  readonly environment: string
  readonly action: ConfigAction
  /** the operator (CLI) or `system` (start) */
  readonly actor: string
  /** canary: the plant that gets the version first */
  readonly plant?: string
  /** e.g. the synthetic run's summary behind a promotion */
  readonly detail?: Record<string, unknown>
}

const toChange = (r: Row): ConfigChangeRow => ({
  id: Number(r.id),
  hash: String(r.hash),
  action: String(r.action) as ConfigAction,
  environment: String(r.environment),
  plant: r.plant === null || r.plant === undefined ? null : String(r.plant),
  actor: String(r.actor),
  atMs: Number(r.at_ms),
  detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
})

/** Stores the version (once per hash), the change and its audit row in one transaction. */
export async function recordConfigChange(store: Store, input: RecordConfigInput): Promise<ConfigChangeRow> {
  const { hash, canonical } = versionOf(input.config)
  const now = await store.now()
  const detail = input.detail ?? {}
  return store.sql.tx(async (x) => {
    await x.run(
      `INSERT INTO config_versions (hash, document, files, first_actor, first_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (hash) DO NOTHING`,
      [hash, canonical, JSON.stringify(input.files), input.actor, now],
    )
    const [row] = await x.all(
      `INSERT INTO config_changes (hash, action, environment, plant, actor, at_ms, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [hash, input.action, input.environment, input.plant ?? null, input.actor, now, JSON.stringify(detail)],
    )
    const change = toChange(row!)
    const payload = {
      changeId: change.id,
      hash,
      environment: input.environment,
      plant: input.plant ?? null,
      files: input.files,
      detail,
    }
    const [a] = await x.all(
      `INSERT INTO audit_log (plant, at_ms, actor, action, subject, correlation_id, payload_hash)
       VALUES (?, ?, ?, ?, ?, NULL, ?) RETURNING seq`,
      [
        CONFIG_PLANT,
        now,
        input.actor,
        `config.${input.action.replace('-', '_')}`,
        `config:${input.environment}`,
        hashCanonical(payload),
      ],
    )
    await x.run('INSERT INTO audit_payloads (audit_seq, payload) VALUES (?, ?)', [
      Number(a!.seq),
      JSON.stringify(payload),
    ])
    return change
  })
}

/** The history, oldest first; one environment or all. */
export async function listConfigChanges(
  store: Store,
  filter: { environment?: string; limit?: number } = {},
): Promise<ConfigChangeRow[]> {
  const limit = filter.limit ?? 1000
  const rows =
    filter.environment === undefined
      ? await store.sql.all('SELECT * FROM config_changes ORDER BY id DESC LIMIT ?', [limit])
      : await store.sql.all('SELECT * FROM config_changes WHERE environment = ? ORDER BY id DESC LIMIT ?', [
          filter.environment,
          limit,
        ])
  return rows.map(toChange).reverse()
}

/** A stored version by its hash or a unique prefix of at least 8 hex digits. */
export async function getConfigVersion(
  store: Store,
  ref: string,
): Promise<{ hash: string; document: unknown; files: string[] }> {
  if (!/^[0-9a-f]{8,64}$/.test(ref))
    throw new QualinkError('QLK_VALIDATION', `version '${ref}': give a hash or its first 8+ hex digits`, [
      { path: 'version', message: 'must be 8 to 64 lower-case hex digits' },
    ])
  const rows = await store.sql.all(
    'SELECT hash, document, files FROM config_versions WHERE hash >= ? AND hash <= ? ORDER BY hash LIMIT 2',
    [ref, `${ref}g`],
  )
  if (rows.length === 0) throw new QualinkError('QLK_NOT_FOUND', `no configuration version ${ref}`)
  if (rows.length > 1)
    throw new QualinkError('QLK_VALIDATION', `version prefix ${ref} is ambiguous: give more digits`, [
      { path: 'version', message: 'matches more than one version' },
    ])
  const r = rows[0]!
  return {
    hash: String(r.hash),
    document: JSON.parse(String(r.document)),
    files: JSON.parse(String(r.files)) as string[],
  }
}

export interface PromotionState {
  /** the version in force for the environment, newest promotion not rolled back */
  readonly current?: string
  /** what `rollback` would make current */
  readonly previous?: string
  /** a version being tried on one plant, over `current` */
  readonly canary?: { readonly hash: string; readonly plant: string }
}

/**
 * Replays the history: a promotion pushes, a rollback pops (its row names the version it made
 * current), a canary stands until the next promotion or rollback.
 */
export async function promotionState(store: Store, environment: string): Promise<PromotionState> {
  const stack: string[] = []
  let canary: PromotionState['canary']
  const rows = await store.sql.all(
    `SELECT * FROM config_changes WHERE environment = ? AND action <> 'loaded' ORDER BY id`,
    [environment],
  )
  for (const c of rows.map(toChange)) {
    if (c.action === 'promoted') {
      stack.push(c.hash)
      canary = undefined
    } else if (c.action === 'rolled-back') {
      stack.pop()
      canary = undefined
    } else if (c.action === 'canary' && c.plant) canary = { hash: c.hash, plant: c.plant }
  }
  return {
    ...(stack.length > 0 ? { current: stack.at(-1) } : {}),
    ...(stack.length > 1 ? { previous: stack.at(-2) } : {}),
    ...(canary ? { canary } : {}),
  }
}

/** Makes the previous promoted version current again; refuses when there is none. */
export async function rollbackConfig(
  store: Store,
  environment: string,
  actor: string,
): Promise<ConfigChangeRow> {
  const state = await promotionState(store, environment)
  if (!state.previous)
    throw new QualinkError(
      'QLK_ROLLBACK_UNAVAILABLE',
      `environment ${environment}: ${state.current ? 'only one version was ever promoted' : 'nothing was promoted'}; nothing to roll back to`,
    )
  const version = await getConfigVersion(store, state.previous)
  return recordConfigChange(store, {
    config: version.document,
    files: version.files,
    environment,
    action: 'rolled-back',
    actor,
    detail: {
      from: state.current,
      to: state.previous,
      ...(state.canary ? { canaryDropped: state.canary } : {}),
    },
  })
}
