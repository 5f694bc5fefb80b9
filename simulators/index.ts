/**
 * Entry point of the plant simulators. `startSimulator(name, opts)` is what `qualink simulate`
 * calls; tests usually import the specific start function for its typed state.
 */
import { startCrm } from './crm/server.ts'
import { startErpEcc } from './erp-ecc/server.ts'
import { startErpS4 } from './erp-s4/server.ts'
import { startErpNext } from './erpnext/server.ts'
import { startLims } from './lims/server.ts'
import { startMes } from './mes/server.ts'
import { startQms } from './qms/server.ts'
import type { FaultConfig, Faults } from './shared/faults.ts'

export type { CrmOptions, CrmSim, CrmState } from './crm/server.ts'
export type { ErpEccOptions, ErpEccSim, ErpEccState } from './erp-ecc/server.ts'
export type { ErpS4Options, ErpS4Sim, ErpS4State } from './erp-s4/server.ts'
export type { ErpNextOptions, ErpNextSim, ErpNextState } from './erpnext/server.ts'
export type { LimsOptions, LimsSim, LimsState } from './lims/server.ts'
export type { MesOptions, MesSim, MesState } from './mes/server.ts'
export type { QmsOptions, QmsSim, QmsState } from './qms/server.ts'
export type { FaultConfig } from './shared/faults.ts'
export { signPayload, verifySignature } from './shared/signing.ts'
export { startCrm, startErpEcc, startErpNext, startErpS4, startLims, startMes, startQms }

export const SIMULATORS = ['erp-s4', 'erp-ecc', 'erpnext', 'qms', 'mes', 'lims', 'crm'] as const
export type SimulatorName = (typeof SIMULATORS)[number]

/** The options `qualink simulate` can pass; each simulator uses the ones that apply to it. */
export interface SimulatorOptions {
  readonly port?: number
  readonly host?: string
  /** Webhook / status callback target (erp-s4, qms, crm; erp-ecc status IDocs). */
  readonly webhookUrl?: string
  readonly webhookSecret?: string
  /** qms / crm bearer token (crm: sent on webhooks; qms: required on its API). */
  readonly apiKey?: string
  readonly apiSecret?: string
  /** mes */
  readonly brokerUrl?: string
  readonly topicPrefix?: string
  /** mes: also an OPC UA face on this port (its PKI under ./data/mes-opcua-pki) */
  readonly opcuaPort?: number
  /** lims output folder */
  readonly dir?: string
  /** erp-ecc folders */
  readonly inboundDir?: string
  readonly outboundDir?: string
  readonly faults?: Partial<FaultConfig>
}

export interface RunningSimulator {
  readonly name: SimulatorName
  /** HTTP base URL (every simulator serves /__sim/faults and /__sim/state there). */
  readonly url: string
  readonly state: unknown
  readonly faults: Faults
  close(): Promise<void>
}

interface Startable {
  readonly url: string
  readonly state: unknown
  readonly faults: Faults
  close(): Promise<void>
}

async function start(name: SimulatorName, o: SimulatorOptions): Promise<Startable> {
  const base = { port: o.port, host: o.host, faults: o.faults }
  const hook = o.webhookUrl ? { url: o.webhookUrl, secret: o.webhookSecret } : undefined
  switch (name) {
    case 'erp-s4':
      return startErpS4({ ...base, webhook: hook })
    case 'erp-ecc':
      return startErpEcc({
        ...base,
        statusCallbackUrl: o.webhookUrl,
        inboundDir: o.inboundDir,
        outboundDir: o.outboundDir,
      })
    case 'erpnext':
      return startErpNext({ ...base, apiKey: o.apiKey, apiSecret: o.apiSecret })
    case 'qms':
      return startQms({ ...base, webhook: hook, apiKey: o.apiKey })
    case 'mes':
      if (!o.brokerUrl) throw new Error('mes needs brokerUrl (e.g. mqtt://127.0.0.1:1883)')
      return startMes({
        ...base,
        brokerUrl: o.brokerUrl,
        topicPrefix: o.topicPrefix,
        opcua: o.opcuaPort === undefined ? undefined : { port: o.opcuaPort, pkiDir: 'data/mes-opcua-pki' },
      })
    case 'lims':
      if (!o.dir) throw new Error('lims needs dir (the folder result files are dropped into)')
      return startLims({ ...base, dir: o.dir })
    case 'crm':
      return startCrm({
        ...base,
        webhook: o.webhookUrl
          ? { url: o.webhookUrl, secret: o.webhookSecret, bearerToken: o.apiKey }
          : undefined,
      })
  }
}

export async function startSimulator(
  name: SimulatorName,
  opts: SimulatorOptions = {},
): Promise<RunningSimulator> {
  if (!SIMULATORS.includes(name))
    throw new Error(`unknown simulator '${name}'; one of ${SIMULATORS.join(', ')}`)
  const sim = await start(name, opts)
  return {
    name,
    url: sim.url,
    get state() {
      return sim.state
    },
    faults: sim.faults,
    close: () => sim.close(),
  }
}
