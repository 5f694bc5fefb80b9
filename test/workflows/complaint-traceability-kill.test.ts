/**
 * Issue 8, complaint traceability with the process killed mid-run: a real `qualink start` process
 * runs the workflow against the S/4, QMS and CRM simulators; the S/4 simulator's `beforeAnswer`
 * hook SIGKILLs the process once the ERP has booked the block of the first suspect lot, before
 * the answer leaves (deterministic, no timing) — between the two lots' ERP effects. A new process
 * on the same database and port takes the run over when the dead one's lease lapses. Each effect
 * exists once (counted in the simulators), the run's result and the CAPA's trace name both blocked
 * lots with their documents, and the audit trail tells it step by step.
 */
import { describe, expect, it } from 'vitest'
import { startCrm, startErpS4, startQms } from '../../simulators/index.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { PLANT_SECRETS_ENV, plantConfig } from '../faults/qualink-process.ts'
import {
  blockedStock,
  buildComplaintScene,
  COMPLAINT,
  COMPLAINT_STEPS,
  erpLotKey,
  SCENE_ERP_MATERIALS,
  SUSPECT,
} from './complaint-scene.ts'
import { auditedSteps, auditStory } from './helpers.ts'
import { LEASE_MS, useProcessPlant } from './process-plant.ts'

const PLANT = '1000' // plantConfig names the plant as the S/4 simulator's documents do
const ENV = { ...PLANT_SECRETS_ENV, FAULT_CRM_SECRET: 'crm-secret' }

describe.each(DIALECTS)(
  'complaint traceability, process killed between two ERP effects, on %s',
  (dialect: Dialect) => {
    const plant = useProcessPlant(dialect, PLANT)

    it('blocks each suspect lot once and tells the whole story after a SIGKILL and a takeover', async () => {
      const hook = (path: string) => `http://127.0.0.1:${plant.port}/v1/ingress/${path}`
      const erp = await plant.simulator(
        startErpS4({
          materials: SCENE_ERP_MATERIALS,
          webhook: { url: hook('erp-s4'), secret: 'erp-secret' },
        }),
      )
      const qms = await plant.simulator(startQms())
      const crm = await plant.simulator(startCrm({ webhook: { url: hook('crm'), secret: 'crm-secret' } }))
      const config = plantConfig(erp.url, qms.url, {
        server: { leaseMs: LEASE_MS },
        workflows: { 'complaint-traceability': { enabled: true } },
      })
      ;(config.ingress as { webhooks: Record<string, unknown> }).webhooks.crm = {
        plant: PLANT,
        translator: 'crm-webhook',
        secrets: [{ secretEnv: 'FAULT_CRM_SECRET' }],
        signatureHeader: 'x-crm-signature',
        deliveryIdHeader: 'x-crm-delivery-id',
      }
      const a = await plant.start(config, ENV)
      await buildComplaintScene(
        erp,
        (type, subject, data) => plant.post(a, type, subject, data),
        async () =>
          (
            (await (await fetch(`${a.url}/v1/events?type=erp.goods_receipt.posted.v1`)).json()) as {
              events: unknown[]
            }
          ).events.length,
        PLANT,
      )

      // The first block transfer is booked in the ERP; its answer never reaches the worker.
      let kills = 0
      const killed = new Promise<void>((resolve) => {
        erp.beforeAnswer = async (req) => {
          if (kills > 0 || req.method !== 'POST' || !req.path.includes('A_MaterialDocumentHeader')) return
          kills++
          await a.kill()
          resolve()
        }
      })
      const c = crm.fileComplaint(COMPLAINT)
      // Polled rather than awaited alone: a run that completes without blocking fails here, not by the test's timeout.
      await until(async () => {
        if (kills > 0) return true
        const [r] = await plant.runs(a, 'workflow=complaint-traceability').catch(() => [])
        if (r?.status === 'completed')
          throw new Error(`the run completed without a block: ${JSON.stringify(r.result)}`)
        return kills > 0
      }, 60_000)
      await killed
      erp.beforeAnswer = undefined
      const blockedAtKill = SUSPECT.map(
        (b) => erp.state.counts.documentsByLotAndBucket[erpLotKey(b)]?.blocked ?? 0,
      )
      expect(blockedAtKill).toEqual([1, 0]) // killed between the two lots' effects

      const b = await plant.start(config, ENV)
      const [run] = await plant.completed(b, 'workflow=complaint-traceability', 1)
      expect(run!.key).toBe(c.caseId)
      for (const batch of SUSPECT) {
        expect(erp.state.stock.find((s) => s.lot === erpLotKey(batch))!.buckets).toMatchObject(
          blockedStock(batch),
        )
        expect(erp.state.counts.documentsByLotAndBucket[erpLotKey(batch)]).toEqual({
          unrestricted: 1,
          blocked: 1,
        })
      }
      expect(qms.state.nonconformances).toBe(1)
      expect(qms.state.capas).toBe(1)
      // The lot blocked by the killed attempt is reported with its document, as the other.
      const result = run!.result as { blocked: Array<{ lot: string; documents: string[] }> }
      expect(result.blocked.map((x) => x.lot)).toEqual([...SUSPECT])
      expect(result.blocked.every((x) => x.documents.length === 1)).toBe(true)
      const [capa] = [...qms.model.capas.values()]
      expect(JSON.parse(capa!.attachments![0]!.content).blocked).toEqual(result.blocked)

      const story = await plant.inspect((store) => auditStory(store, c.caseId))
      expect(story.filter((s) => s.action === 'event.ingested')).toHaveLength(1)
      expect(auditedSteps(story)).toEqual([...COMPLAINT_STEPS])
      expect(story.at(-1)).toMatchObject({ action: 'workflow.completed' })
    }, 240_000)
  },
)
