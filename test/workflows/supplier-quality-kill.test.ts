/**
 * Issue 8, supplier quality with the process killed mid-run: a real `qualink start` process runs
 * the supplier-quality-status workflow (plant policy `block-purchasing`) against the S/4 and QMS
 * simulators. The S/4 simulator's `beforeAnswer` hook SIGKILLs the process once the ERP has
 * applied a change of the supplier's purchasing block, before the answer leaves — first the block
 * (the CAPA opened), then the release (the CAPA closed); each time a new process on the same
 * database and port takes the run over when the lease lapses. The supplier master counts each
 * real change (`blockChanges`, never deduplicated): one block, one release.
 */
import { describe, expect, it } from 'vitest'
import { type ErpS4Sim, startErpS4, startQms } from '../../simulators/index.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import type { QualinkProcess } from '../faults/qualink-process.ts'
import { PLANT_SECRETS_ENV, plantConfig } from '../faults/qualink-process.ts'
import { auditedSteps, auditStory } from './helpers.ts'
import { LEASE_MS, useProcessPlant } from './process-plant.ts'

const PLANT = '1000'
const KEY = `${PLANT}/SUP-7`

/** Kills `p` when the ERP has applied the next PATCH of supplier SUP-7, before it answers. */
function killOnSupplierChange(erp: ErpS4Sim, p: QualinkProcess): Promise<void> {
  return new Promise((resolve) => {
    erp.beforeAnswer = async (req) => {
      if (req.method !== 'PATCH' || !req.path.includes('A_Supplier')) return
      erp.beforeAnswer = undefined
      await p.kill()
      resolve()
    }
  })
}

describe.each(DIALECTS)(
  'supplier quality, process killed after each ERP change, on %s',
  (dialect: Dialect) => {
    const plant = useProcessPlant(dialect, PLANT)

    it('blocks once and releases once across a SIGKILL after each change', async () => {
      const hook = `http://127.0.0.1:${plant.port}/v1/ingress`
      const erp = await plant.simulator(
        startErpS4({ suppliers: ['SUP-7'], webhook: { url: `${hook}/erp-s4`, secret: 'erp-secret' } }),
      )
      const qms = await plant.simulator(startQms({ webhook: { url: `${hook}/qms`, secret: 'qms-secret' } }))
      const config = plantConfig(erp.url, qms.url, {
        server: { leaseMs: LEASE_MS },
        workflows: { 'supplier-quality-status': { enabled: true } },
      })
      const plants = config.plants as Record<string, Record<string, unknown>>
      plants[PLANT] = { ...plants[PLANT], supplierQuality: { onCorrectiveAction: 'block-purchasing' } }
      const supplier = () => erp.state.suppliers.find((s) => s.supplier === 'SUP-7')!
      const qmsCall = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
        const r = await fetch(`${qms.url}/api/v1${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        expect(r.status).toBeLessThan(300)
        return (await r.json()) as { id: string }
      }

      // The CAPA opens: the block is applied in the ERP, the process dies before the answer.
      const a = await plant.start(config, PLANT_SECRETS_ENV)
      const blockKill = killOnSupplierChange(erp, a)
      const capa = await qmsCall('POST', '/capas', { title: 'Moisture above limit', supplier: 'SUP-7' })
      await blockKill
      expect(supplier()).toMatchObject({ purchasingBlocked: true, blockChanges: 1 })

      // A new process takes the run over; the release is killed likewise.
      const b = await plant.start(config, PLANT_SECRETS_ENV)
      // Its takeover reads the block already set and changes nothing: the next change is the release.
      const releaseKill = killOnSupplierChange(erp, b)
      await qmsCall('PATCH', `/capas/${capa.id}`, { status: 'COMPLETED' })
      await releaseKill
      expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })

      const c = await plant.start(config, PLANT_SECRETS_ENV)
      const [run] = await plant.completed(c, `key=${encodeURIComponent(KEY)}`, 1)
      expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })
      expect(run!.result).toMatchObject({ supplier: 'SUP-7', capas: [capa.id] })

      const story = await plant.inspect((store) => auditStory(store, KEY))
      expect(auditedSteps(story)).toEqual(['block-supplier', 'notify-supplier-blocked', 'release-supplier'])
      expect(story.at(-1)).toMatchObject({ action: 'workflow.completed' })
    }, 240_000)
  },
)
