/**
 * Promotion and canary (docs/operations.md "Change control"). A version is recorded as promoted to
 * an environment only after a synthetic run against it passed; `--canary-plant` records it for one
 * plant first, and `qualink start` honours that at start: the canary plant runs on the canary
 * version's settings, every other plant on the file it was started with.
 */
import { QualinkError } from '../contracts/errors.ts'
import type { Store } from '../store/types.ts'
import { runSynthetic, type SyntheticReport } from '../synthetic/run.ts'
import { configProblems, type LoadedConfig } from './load.ts'
import type { QualinkConfig } from './schema.ts'
import {
  type ConfigChangeRow,
  getConfigVersion,
  NO_ENVIRONMENT,
  promotionState,
  recordConfigChange,
} from './version-store.ts'
import { versionOf, withCanaryPlant } from './versions.ts'

export interface PromoteOptions {
  readonly environment: string
  readonly actor: string
  readonly canaryPlant?: string
  readonly env?: NodeJS.ProcessEnv
  /** tests: a fixed synthetic run id */
  readonly runId?: string
}

export interface PromoteResult {
  readonly change: ConfigChangeRow
  readonly report: SyntheticReport
}

/**
 * Runs the synthetic transactions against `loaded` (the canary plant only, with --canary-plant) and
 * records the promotion when they all pass; otherwise audits the refusal and throws
 * QLK_PROMOTION_REFUSED naming each step that did not pass.
 */
export async function promoteConfig(
  store: Store,
  loaded: LoadedConfig,
  o: PromoteOptions,
): Promise<PromoteResult> {
  if (o.canaryPlant !== undefined && !loaded.config.plants[o.canaryPlant])
    throw new QualinkError(
      'QLK_VALIDATION',
      `--canary-plant ${o.canaryPlant}: not a plant of this configuration`,
      [{ path: '--canary-plant', message: `must be one of ${Object.keys(loaded.config.plants).join(', ')}` }],
    )
  const report = await runSynthetic(loaded, {
    ...(o.canaryPlant ? { plant: o.canaryPlant } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.runId ? { runId: o.runId } : {}),
  })
  const summary = {
    syntheticRun: report.runId,
    plants: report.plants,
    workflows: report.workflows,
    steps: report.steps.length,
    ms: report.ms,
  }
  if (!report.passed) {
    const failed = report.steps.filter((s) => s.status !== 'passed')
    await store.appendAudit([
      {
        plant: '*',
        actor: o.actor,
        action: 'config.promotion_refused',
        subject: `config:${o.environment}`,
        correlationId: null,
        payload: { hash: versionOf(loaded.config).hash, ...summary, failed },
      },
    ])
    throw new QualinkError(
      'QLK_PROMOTION_REFUSED',
      `not promoted to ${o.environment}: synthetic run ${report.runId} failed at ${failed.length} step(s)`,
      failed.map((s) => ({
        path: `${s.plant}/${s.workflow}/${s.step}`,
        message: s.error ?? s.detail ?? s.status,
      })),
    )
  }
  const change = await recordConfigChange(store, {
    config: loaded.config,
    files: loaded.files,
    environment: o.environment,
    action: o.canaryPlant ? 'canary' : 'promoted',
    actor: o.actor,
    ...(o.canaryPlant ? { plant: o.canaryPlant } : {}),
    detail: summary,
  })
  return { change, report }
}

/**
 * The configuration `qualink start` runs. Once an environment has a promoted version, that version
 * runs (a file edited but not promoted does not reach production; `rollback` takes effect at the
 * next start); its canary version, if one is recorded, for the canary plant. Without promotions:
 * the loaded file, as before change control.
 */
export async function configForStart(store: Store, loaded: LoadedConfig): Promise<StartConfig> {
  const environment = loaded.environment ?? NO_ENVIRONMENT
  const state = await promotionState(store, environment)
  const fileHash = versionOf(loaded.config).hash
  const base =
    state.current && state.current !== fileHash
      ? ((await getConfigVersion(store, state.current)).document as QualinkConfig)
      : loaded.config
  const out = {
    environment,
    fileHash,
    ...(state.current ? { promoted: state.current } : {}),
  }
  if (!state.canary) return { ...out, config: base }
  const canary = await getConfigVersion(store, state.canary.hash)
  const composed = withCanaryPlant(base, canary.document, state.canary.plant)
  const problems = configProblems(composed)
  if (problems.length > 0)
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `canary ${state.canary.hash.slice(0, 12)} for plant ${state.canary.plant} does not fit the running version`,
      problems,
    )
  return { ...out, config: composed as QualinkConfig, canary: state.canary }
}

export interface StartConfig {
  readonly config: QualinkConfig
  readonly environment: string
  /** hash of the file as loaded */
  readonly fileHash: string
  /** the environment's current promoted version, when there is one (it runs instead of a differing file) */
  readonly promoted?: string
  readonly canary?: { readonly hash: string; readonly plant: string }
}

/** Records what start runs as a 'loaded' version by `system`, with where it came from. */
export function recordStart(store: Store, loaded: LoadedConfig, s: StartConfig): Promise<ConfigChangeRow> {
  return recordConfigChange(store, {
    config: s.config,
    files: loaded.files,
    environment: s.environment,
    action: 'loaded',
    actor: 'system',
    detail: {
      fileHash: s.fileHash,
      ...(s.promoted ? { promoted: s.promoted } : {}),
      ...(s.canary ? { canary: s.canary } : {}),
    },
  })
}
