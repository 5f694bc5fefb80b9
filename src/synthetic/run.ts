/**
 * `qualink synthetic run`: one transaction of each enabled workflow per plant, through the
 * connectors the configuration builds (buildRuntime), on designated test records only, each
 * effect taken back (src/synthetic/transactions.ts). The report lists every step with its time;
 * it passes only when every step passed. Proves a configuration before it is promoted
 * (docs/operations.md "Change control").
 */
import { randomBytes } from 'node:crypto'
import { buildRuntime } from '../config/build-runtime.ts'
import type { LoadedConfig } from '../config/load.ts'
import { seg } from '../config/problems.ts'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import { quantity } from '../model/quantity.ts'
import { hasSyntheticErp } from '../workflows/ports/synthetic.ts'
import { StepLedger, type SyntheticStep } from './steps.ts'
import {
  COMPLAINT,
  IN_PROCESS,
  inProcessTransaction,
  RECEIPT,
  RELEASE,
  receiptTransaction,
  releaseTransaction,
  type TransactionContext,
} from './transactions.ts'

/** Prefix of every reference a synthetic run writes into the ERP and the QMS. */
export const SYNTHETIC_REFERENCE_PREFIX = 'QLK-SYNTH'

export interface SyntheticReport {
  readonly runId: string
  readonly passed: boolean
  readonly plants: readonly string[]
  readonly workflows: readonly string[]
  readonly steps: readonly SyntheticStep[]
  /** what a run leaves behind by design, per ERP (e.g. a return delivery instead of a cancellation) */
  readonly notes: readonly string[]
  readonly ms: number
}

export interface SyntheticOptions {
  /** one plant; default every plant */
  readonly plant?: string
  readonly env?: NodeJS.ProcessEnv
  /** fixed id (tests); default 8 random hex-ish characters */
  readonly runId?: string
}

/** Enabled workflows, in the order they are run. */
function enabledWorkflows(loaded: LoadedConfig): string[] {
  const wf = loaded.config.workflows ?? {}
  return [RECEIPT, COMPLAINT, IN_PROCESS, RELEASE].filter((n) => {
    const w = (wf as Record<string, { enabled?: boolean } | undefined>)[n]
    return w !== undefined && w.enabled !== false
  })
}

export async function runSynthetic(
  loaded: LoadedConfig,
  opts: SyntheticOptions = {},
): Promise<SyntheticReport> {
  const { config } = loaded
  const plants = opts.plant === undefined ? Object.keys(config.plants) : [opts.plant]
  const problems: FieldProblem[] = []
  for (const p of plants) {
    if (!config.plants[p]) problems.push({ path: '--plant', message: `plant '${p}' is not configured` })
    else if (!config.plants[p]!.synthetic?.materials?.length)
      problems.push({
        path: `/plants/${seg(p)}/synthetic/materials`,
        message: 'designate test materials first: a synthetic run touches designated test records only',
      })
  }
  const workflows = enabledWorkflows(loaded)
  if (workflows.length === 0)
    problems.push({ path: '/workflows', message: 'no workflow is enabled: nothing to prove' })
  if (problems.length > 0)
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `${loaded.files.join(' + ')}: cannot run synthetic transactions`,
      problems,
    )

  const rt = buildRuntime(loaded, opts.env)
  const runId = opts.runId ?? randomBytes(4).toString('hex').toUpperCase()
  const steps: SyntheticStep[] = []
  const notes: string[] = []
  const t0 = Date.now()
  for (const plant of plants) {
    const p = config.plants[plant]!
    const s = p.synthetic!
    const ledger = new StepLedger(plant)
    const erpConnector = rt.connectors[p.erp]
    const erpPlant = Object.entries(p.idMapping?.[p.erp]?.plants ?? {}).find(([, q]) => q === plant)?.[0]
    const c: TransactionContext = {
      plant,
      runId,
      reference: `${SYNTHETIC_REFERENCE_PREFIX} ${runId}`,
      erp: rt.ports.erp.forPlant(plant),
      qms: rt.ports.qms.forPlant(plant),
      syntheticErp: hasSyntheticErp(erpConnector) ? erpConnector : undefined,
      ...(erpPlant ? { erpPlant } : {}),
      ledger,
      notes,
    }
    const receipt = workflows.includes(RECEIPT)
    const complaint = workflows.includes(COMPLAINT)
    if (receipt || complaint)
      await receiptTransaction(
        c,
        {
          material: s.materials[0]!,
          // SAP batch numbers are CHAR 10: the prefix and the run id fit.
          batch: `${s.batchPrefix ?? 'QS'}${runId}`.slice(0, 10),
          quantity: quantity(s.quantity ?? 1, 0, s.unit ?? 'PC'),
          ...(s.supplier ? { supplier: s.supplier } : {}),
          udCode: s.usageDecisionCode ?? 'A1',
        },
        { receipt, complaint },
      )
    if (workflows.includes(IN_PROCESS)) await inProcessTransaction(c, s.productionOrder)
    if (workflows.includes(RELEASE)) await releaseTransaction(c, s.delivery)
    steps.push(...ledger.steps)
  }
  return {
    runId,
    passed: steps.length > 0 && steps.every((x) => x.status === 'passed'),
    plants,
    workflows,
    steps,
    notes,
    ms: Date.now() - t0,
  }
}

/** The report for a terminal: one line per step, then the verdict. */
export function formatReport(r: SyntheticReport): string[] {
  const lines = r.steps.map((s) => {
    const mark = s.status === 'passed' ? 'PASS' : s.status === 'failed' ? 'FAIL' : 'SKIP'
    const what = s.error ?? s.detail
    return `${mark} ${s.plant} ${s.workflow} ${s.step} (${s.ms} ms)${what ? `: ${what}` : ''}`
  })
  for (const n of r.notes) lines.push(`note: ${n}`)
  const failed = r.steps.filter((s) => s.status !== 'passed').length
  lines.push(
    r.passed
      ? `synthetic run ${r.runId}: PASSED — ${r.steps.length} steps, ${r.workflows.length} workflows, ${r.plants.length} plant(s), ${r.ms} ms`
      : `synthetic run ${r.runId}: FAILED — ${failed} of ${r.steps.length} steps did not pass`,
  )
  return lines
}
