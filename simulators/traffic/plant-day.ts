/**
 * A plant day for the demo: supplier receipts land in quality-inspection stock and are decided
 * (receipts.ts), the MES completes operations over MQTT with torque now and then out of tolerance,
 * the LIMS drops result files and finished lots are packed for release (shop-floor.ts), lots ship,
 * customers complain, and orders run through the kernel demo workflow (outbound.ts), while the ERP
 * is down now and then (weather.ts). Deterministic in its rhythm, not in its ids. With a state file
 * the day's counters, lots and pending work are saved, so a restarted demo resumes them.
 */
import { startLims, startMes } from '../index.ts'
import type { LimsSim } from '../lims/server.ts'
import type { MesSim } from '../mes/server.ts'
import { readStateFile, writeStateFile } from '../shared/state-file.ts'
import { newDay, type PlantDayOptions, type PlantDaySaved, savedDay } from './day.ts'
import { approvals, complain, order, ship } from './outbound.ts'
import { decide, receipt, release } from './receipts.ts'
import { disposition, labResults, operation, pack } from './shop-floor.ts'
import { supplierCapas } from './supplier-capas.ts'
import { erpWeather } from './weather.ts'

export type { PlantDayOptions } from './day.ts'
export { DEMO_ORDERS } from './shop-floor.ts'

/**
 * The receiving inspection plan of the demo's raw material, created once in the ERP simulator
 * (API_INSPECTIONPLAN_SRV): the plan feed brings it to the QMS, and every receipt's QMS lot names
 * its revision.
 */
export const demoInspectionPlan = (plant: string) => ({
  InspectionPlanGroup: 'QP-RAW-100',
  Plant: plant,
  InspectionPlanDesc: 'Receiving inspection RAW-100',
  materials: [{ Material: 'RAW-100' }],
  operations: [
    {
      OperationText: 'Receiving inspection',
      characteristics: [
        {
          InspectionSpecification: 'DIAMETER',
          InspectionSpecificationText: 'Diameter',
          InspSpecIsQuantitative: true,
          InspSpecLowerLimit: '11.92',
          InspSpecUpperLimit: '12.08',
          InspSpecTargetValue: '12.00',
          InspSpecUnit: 'MM',
          InspCharacteristicSampleSize: '5',
        },
        { InspectionSpecification: 'SURFACE', InspectionSpecificationText: 'Surface free of scratches' },
      ],
    },
  ],
})

export interface PlantDay {
  readonly stats: Record<string, number>
  stop(): Promise<void>
}

export async function startPlantDay(o: PlantDayOptions): Promise<PlantDay> {
  const saved = o.stateFile ? readStateFile<PlantDaySaved>(o.stateFile) : undefined
  const d = newDay(o, saved)
  const lims: LimsSim = await startLims({ dir: o.limsDir })
  let mes: MesSim | undefined
  if (o.brokerUrl) {
    try {
      mes = await startMes({
        brokerUrl: o.brokerUrl,
        topicPrefix: o.mqttTopicPrefix ?? 'plant',
        clientId: `qualink-demo-mes-${d.run}`,
      })
    } catch (e) {
      o.log?.(
        `MES simulator could not reach ${o.brokerUrl} (${(e as Error).message}); MES completions go to the API instead`,
      )
    }
  }
  const capas = o.qms ? supplierCapas(o.qms, 'V-77', saved?.capas) : undefined
  const saver = o.stateFile
    ? writeStateFile(o.stateFile, (): PlantDaySaved => savedDay(d, capas?.worked ?? []))
    : undefined

  let stopped = false
  let chain: Promise<void> = Promise.resolve()
  const step = async () => {
    const tick = ++d.tick
    erpWeather(d)
    if (tick % 10 === 1) await receipt(d)
    if (tick % 10 === 3 && d.rawLots.length && !o.erp) await release(d, d.rawLots.at(-1)!)
    if (tick % 4 === 2) decide(d)
    await disposition(d)
    if (tick % 3 === 0) await operation(d, mes)
    if (tick % 6 === 0) {
      await labResults(d, lims)
      await pack(d)
    }
    if (tick % 12 === 0) await ship(d)
    if (tick % 5 === 0) await order(d)
    await approvals(d)
    if (tick % 40 === 39) complain(d)
    if (capas && tick % 60 === 7) {
      await capas.open(`Hardness out of spec on ${d.rawLots.at(-1) ?? 'receipt'}`)
      d.stats.capasOpened!++
    }
    if (capas && tick % 3 === 1) d.stats.capasClosed! += await capas.work()
  }
  const timer = setInterval(() => {
    if (stopped) return
    chain = chain.then(step).catch((e) => o.log?.(`traffic step failed: ${(e as Error).message}`))
  }, o.tickMs ?? 1500)

  return {
    stats: d.stats,
    async stop() {
      stopped = true
      clearInterval(timer)
      await chain
      saver?.close()
      await mes?.close()
      await lims.close()
    },
  }
}
