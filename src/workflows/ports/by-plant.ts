/**
 * Plant routing: one ErpPort / QmsPort / NotifyPort whose calls go to the connector configured
 * for the plant they concern, so P100 on erp/sap-s4 and P200 on erp/erpnext run side by side
 * behind the same `ctx.ports.erp`. Pure dispatch: no I/O, no state, no retries of its own.
 *
 * Every routed call is async: a refusal is a rejected promise, like any connector failure.
 * Calls whose input names a plant (a LotRef, a QMS create) are routed by it. Calls that carry only
 * a document id (an inspection lot, an order, a delivery, a notification) may carry an optional
 * `plant`; without one they go to the single connector every plant shares, and are refused
 * (permanent: the run dead-letters, visibly) when plants use different connectors — guessing
 * which ERP owns an order number could post to the wrong plant.
 */
import { PermanentError } from '../../engine/errors.ts'
import type { EdiPort } from './edi.ts'
import type { ChangeUsageDecisionInput, ErpPort, HoldInput, RecordUsageDecisionInput } from './erp.ts'
import type { MesPort } from './mes.ts'
import type { Notification, NotifyPort } from './notify.ts'
import type { QmsPort } from './qms.ts'

/** An input that may name its plant (routing only; the connector ignores it). */
export type WithPlant<T> = T & { readonly plant?: string }

export interface PlantRoutes<P> {
  /** plant code → that plant's port */
  readonly byPlant: Readonly<Record<string, P>>
  /** port name in messages, e.g. `erp` */
  readonly port: string
}

export interface PlantRouted<P> {
  /** the port of one plant (refused for an unconfigured plant) */
  forPlant(plant: string): P
  readonly plants: readonly string[]
}

class Router<P> {
  constructor(private readonly routes: PlantRoutes<P>) {}

  get plants(): string[] {
    return Object.keys(this.routes.byPlant)
  }

  forPlant(plant: string): P {
    const p = Object.hasOwn(this.routes.byPlant, plant) ? this.routes.byPlant[plant] : undefined
    if (!p)
      throw new PermanentError(
        'QLK_CONFIG_INVALID',
        `no ${this.routes.port} connector is configured for plant '${plant}' (configured: ${this.plants.join(', ') || 'none'})`,
      )
    return p
  }

  /** by the input's plant, else the one port all plants share */
  pick(plant: string | undefined, call: string): P {
    if (plant !== undefined) return this.forPlant(plant)
    const distinct = [...new Set(Object.values(this.routes.byPlant))]
    if (distinct.length === 1) return distinct[0]!
    throw new PermanentError(
      'QLK_CONFIG_INVALID',
      `${this.routes.port}.${call} names no plant and plants ${this.plants.join(', ')} use different ${this.routes.port} connectors; pass 'plant'`,
    )
  }
}

export type PlantRoutedErpPort = PlantRouted<ErpPort> & {
  recordUsageDecision(input: WithPlant<RecordUsageDecisionInput>): ReturnType<ErpPort['recordUsageDecision']>
  /** routed by the lot's plant; `{ changed: false }` from an ERP that has no usage-decision record */
  changeUsageDecision(input: ChangeUsageDecisionInput): ReturnType<ErpPort['recordUsageDecision']>
  setProductionOrderHold(
    input: WithPlant<HoldInput & { readonly order: string }>,
  ): ReturnType<ErpPort['setProductionOrderHold']>
  setDeliveryBlock(
    input: WithPlant<Parameters<ErpPort['setDeliveryBlock']>[0]>,
  ): ReturnType<ErpPort['setDeliveryBlock']>
} & Omit<
    ErpPort,
    'recordUsageDecision' | 'changeUsageDecision' | 'setProductionOrderHold' | 'setDeliveryBlock'
  >

export function erpByPlant(byPlant: Readonly<Record<string, ErpPort>>): PlantRoutedErpPort {
  const r = new Router({ byPlant, port: 'erp' })
  return {
    plants: r.plants,
    forPlant: (plant) => r.forPlant(plant),
    recordUsageDecision: async ({ plant, ...input }) =>
      r.pick(plant, 'recordUsageDecision').recordUsageDecision(input),
    changeUsageDecision: async (input) => {
      const port = r.forPlant(input.lot.plant)
      return port.changeUsageDecision ? port.changeUsageDecision(input) : { changed: false }
    },
    postStockDisposition: async (input) => r.forPlant(input.lot.plant).postStockDisposition(input),
    readLotStock: async (lot, opts) => r.forPlant(lot.plant).readLotStock(lot, opts),
    readInspectionLotRemainder: async (id, opts) => {
      const port = r.pick(opts?.plant, 'readInspectionLotRemainder')
      return port.readInspectionLotRemainder ? port.readInspectionLotRemainder(id, opts) : null
    },
    transferStock: async (input) => r.forPlant(input.lot.plant).transferStock(input),
    findTransfer: async (input) => {
      const port = r.forPlant(input.lot.plant)
      return port.findTransfer ? port.findTransfer(input) : []
    },
    setProductionOrderHold: async ({ plant, ...input }) =>
      r.pick(plant, 'setProductionOrderHold').setProductionOrderHold(input),
    setDeliveryBlock: async ({ plant, ...input }) =>
      r.pick(plant, 'setDeliveryBlock').setDeliveryBlock(input),
    confirmOperation: async (input) => {
      const port = r.pick(input.plant, 'confirmOperation')
      if (!port.confirmOperation)
        throw new PermanentError(
          'QLK_VALIDATION',
          `the ERP of plant ${input.plant ?? '(any)'} cannot take production confirmations`,
        )
      return port.confirmOperation(input)
    },
    setSupplierPurchasingBlock: async (input) => {
      const port = r.pick(input.plant, 'setSupplierPurchasingBlock')
      if (!port.setSupplierPurchasingBlock)
        throw new PermanentError(
          'QLK_VALIDATION',
          `the ERP of plant ${input.plant ?? '(any)'} cannot set a supplier's purchasing block`,
        )
      return port.setSupplierPurchasingBlock(input)
    },
  }
}

export type PlantRoutedQmsPort = PlantRouted<QmsPort> & {
  getInspectionLot(id: string, plant?: string): ReturnType<QmsPort['getInspectionLot']>
  getUsageDecision(inspectionLot: string, plant?: string): ReturnType<QmsPort['getUsageDecision']>
  setNonconformanceStatus(
    input: WithPlant<Parameters<QmsPort['setNonconformanceStatus']>[0]>,
  ): ReturnType<QmsPort['setNonconformanceStatus']>
  setInspectionLotQuantity(
    input: WithPlant<Parameters<QmsPort['setInspectionLotQuantity']>[0]>,
  ): ReturnType<QmsPort['setInspectionLotQuantity']>
  cancelInspectionLot(
    input: WithPlant<Parameters<QmsPort['cancelInspectionLot']>[0]>,
  ): ReturnType<QmsPort['cancelInspectionLot']>
} & Omit<
    QmsPort,
    | 'getInspectionLot'
    | 'getUsageDecision'
    | 'setNonconformanceStatus'
    | 'setInspectionLotQuantity'
    | 'cancelInspectionLot'
  >

export function qmsByPlant(byPlant: Readonly<Record<string, QmsPort>>): PlantRoutedQmsPort {
  const r = new Router({ byPlant, port: 'qms' })
  return {
    plants: r.plants,
    forPlant: (plant) => r.forPlant(plant),
    createInspectionLot: async (input) => r.forPlant(input.plant).createInspectionLot(input),
    getInspectionLot: async (id, plant) => r.pick(plant, 'getInspectionLot').getInspectionLot(id),
    getUsageDecision: async (lot, plant) => r.pick(plant, 'getUsageDecision').getUsageDecision(lot),
    setInspectionLotQuantity: async ({ plant, ...input }) =>
      r.pick(plant, 'setInspectionLotQuantity').setInspectionLotQuantity(input),
    cancelInspectionLot: async ({ plant, ...input }) =>
      r.pick(plant, 'cancelInspectionLot').cancelInspectionLot(input),
    openNonconformance: async (input) => r.forPlant(input.plant).openNonconformance(input),
    openCorrectiveAction: async (input) => r.forPlant(input.plant).openCorrectiveAction(input),
    setNonconformanceStatus: async ({ plant, ...input }) =>
      r.pick(plant, 'setNonconformanceStatus').setNonconformanceStatus(input),
    upsertSpecification: async (input) => {
      const port = r.forPlant(input.spec.plant)
      if (!port.upsertSpecification)
        throw new PermanentError(
          'QLK_VALIDATION',
          `the QMS of plant ${input.spec.plant} cannot take specifications`,
        )
      return port.upsertSpecification(input)
    },
    // a QMS that cannot list specifications holds none a lot could name
    listSpecifications: async (input) => {
      const port = r.forPlant(input.plant)
      return port.listSpecifications ? port.listSpecifications(input) : []
    },
  }
}

export type PlantRoutedNotifyPort = PlantRouted<NotifyPort> & {
  send(message: WithPlant<Notification>): ReturnType<NotifyPort['send']>
}

export function notifyByPlant(byPlant: Readonly<Record<string, NotifyPort>>): PlantRoutedNotifyPort {
  const r = new Router({ byPlant, port: 'notify' })
  return {
    plants: r.plants,
    forPlant: (plant) => r.forPlant(plant),
    send: async ({ plant, ...message }) => r.pick(plant, 'send').send(message),
  }
}

export type PlantRoutedMesPort = PlantRouted<MesPort> & Required<MesPort>

/** Specifications to the MES publisher of the specification's plant; a plant without one is not served. */
export function mesByPlant(byPlant: Readonly<Record<string, MesPort>>): PlantRoutedMesPort {
  const r = new Router({ byPlant, port: 'mes' })
  return {
    plants: r.plants,
    forPlant: (plant) => r.forPlant(plant),
    serves: (plant) => Object.hasOwn(byPlant, plant),
    publishSpecification: async (input) => r.forPlant(input.spec.plant).publishSpecification(input),
  }
}

/** The EdiPort of each plant: an 861 goes out through the edi connector of the plant it concerns. */
export function ediByPlant(byPlant: Readonly<Record<string, EdiPort>>): EdiPort {
  const r = new Router({ byPlant, port: 'edi' })
  return { sendReceivingAdvice: async (input) => r.forPlant(input.plant).sendReceivingAdvice(input) }
}
