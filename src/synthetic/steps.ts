/**
 * The step ledger of one synthetic transaction: each step timed and recorded as passed, failed or
 * skipped. A failed forward step skips the rest of its chain; cleanup steps run whenever the
 * effect they undo was made, so a failing run still takes its test postings back.
 */
import { performance } from 'node:perf_hooks'

export type StepStatus = 'passed' | 'failed' | 'skipped'

export interface SyntheticStep {
  readonly plant: string
  readonly workflow: string
  readonly step: string
  readonly status: StepStatus
  readonly ms: number
  /** what was done (document numbers) or why it was skipped */
  readonly detail?: string
  /** the error, with its QLK_ code when it has one */
  readonly error?: string
}

const describeError = (e: unknown): string => {
  const x = e as { code?: unknown; message?: unknown }
  const msg = typeof x?.message === 'string' ? x.message : String(e)
  return typeof x?.code === 'string' && x.code.startsWith('QLK_') ? `${x.code}: ${msg}` : msg
}

export class StepLedger {
  readonly steps: SyntheticStep[] = []

  constructor(private readonly plant: string) {}

  /** Runs `fn`; on failure records it and returns undefined (the caller skips what depended on it). */
  async run<T>(
    workflow: string,
    step: string,
    fn: () => Promise<T>,
    detail?: (result: T) => string,
  ): Promise<{ value: T } | undefined> {
    const t0 = performance.now()
    try {
      const value = await fn()
      this.steps.push({
        plant: this.plant,
        workflow,
        step,
        status: 'passed',
        ms: Math.round(performance.now() - t0),
        ...(detail ? { detail: detail(value) } : {}),
      })
      return { value }
    } catch (e) {
      this.steps.push({
        plant: this.plant,
        workflow,
        step,
        status: 'failed',
        ms: Math.round(performance.now() - t0),
        error: describeError(e),
      })
      return undefined
    }
  }

  skip(workflow: string, step: string, why: string): void {
    this.steps.push({ plant: this.plant, workflow, step, status: 'skipped', ms: 0, detail: why })
  }

  fail(workflow: string, step: string, error: string): void {
    this.steps.push({ plant: this.plant, workflow, step, status: 'failed', ms: 0, error })
  }
}

/** An assertion inside a step: throws with what was expected and found. */
export function expectThat(ok: boolean, message: string): void {
  if (!ok) throw new Error(message)
}
