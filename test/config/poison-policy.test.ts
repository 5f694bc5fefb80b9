/**
 * A workflow's poison policy (DESIGN §6 "A poisoned key": block or skip) is set per workflow in
 * qualink.yaml; the engine reads it from the workflow definition the runtime builds (the behaviour
 * of each policy is tested by F15, test/faults/poison.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from './fixture.ts'

const ENV = { ERPNEXT_KEY: 'k', ERPNEXT_SECRET: 's', ERP_SECRET: 'e', QMS_SECRET: 'q' }

describe('poisonPolicy per workflow in qualink.yaml', () => {
  let tmp: TempDir
  beforeEach(() => {
    tmp = new TempDir()
  })
  afterEach(() => tmp.remove())

  const withPolicy = (policy: unknown): Doc => {
    const d = baseDoc()
    d.workflows = { 'supplier-receipt-inspection': { enabled: true, poisonPolicy: policy } }
    return d
  }
  const receiptWorkflow = (d: Doc) =>
    buildRuntime(loadConfig(tmp.write('qualink.yaml', d), {}), ENV).options.workflows?.find(
      (w) => w.name === 'supplier-receipt-inspection',
    )

  it('skip reaches the workflow definition; without a setting the engine default (block) applies', () => {
    expect(receiptWorkflow(withPolicy('skip'))?.poisonPolicy).toBe('skip')
    expect(receiptWorkflow(withPolicy('block'))?.poisonPolicy).toBe('block')
    const d = baseDoc()
    expect(receiptWorkflow(d)?.poisonPolicy).toBeUndefined()
  })

  it('an unknown policy is refused at its path', () => {
    const problems = problemsOf(tmp, withPolicy('ignore'))
    expect(problems.map((p) => p.path)).toContain('/workflows/supplier-receipt-inspection/poisonPolicy')
  })
})
