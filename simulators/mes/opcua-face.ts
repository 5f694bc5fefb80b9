/**
 * The MES simulator's OPC UA face: per line, the nodes a line PLC exposes to Qualink's OPC UA
 * source (docs/connectors.md "mes/opcua") — `ns=1;s=<line>.Order`, `.Operation`, `.Lot`, one
 * Double per measured characteristic (`<line>.<characteristic>`), `.OperationComplete` (Boolean)
 * and `.CompletedCount` (UInt32). node-opcua-server is a devDependency: this file is imported
 * only when a face is asked for, so `npm start` and an install without dev packages never load it.
 */
import path from 'node:path'
import certificateManager from 'node-opcua-certificate-manager'
import opcua from 'node-opcua-client'
import server from 'node-opcua-server'
import type { CompletionInput } from './server.ts'

const { DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant } = opcua
const { OPCUACertificateManager } = certificateManager
const { OPCUAServer } = server

type OpcServer = InstanceType<typeof OPCUAServer>
type Namespace = ReturnType<NonNullable<OpcServer['engine']['addressSpace']>['getOwnNamespace']>
export type UAVariable = ReturnType<Namespace['addVariable']>
export type OpcValue = number | string | boolean

export interface OpcUaServerOptions {
  readonly port: number
  /** the server's PKI folders go below it (never into $HOME) */
  readonly pkiDir: string
  /** only SignAndEncrypt with Basic256Sha256, no anonymous session: these users (name → password) */
  readonly secureUsers?: Readonly<Record<string, string>>
}

export interface OpcUaTestServer {
  readonly url: string
  /** a Double, String, Boolean or UInt32 variable `ns=1;s=<name>` under Objects */
  variable(name: string, type: 'Double' | 'String' | 'Boolean' | 'UInt32'): UAVariable
  close(): Promise<void>
}

/** An OPC UA server on 127.0.0.1:`port` (node-opcua-server), for the simulator and the tests. */
export async function startOpcUaServer(opts: OpcUaServerOptions): Promise<OpcUaTestServer> {
  const manager = (name: string) =>
    new OPCUACertificateManager({
      rootFolder: path.join(opts.pkiDir, name),
      automaticallyAcceptUnknownCertificate: true,
    })
  const srv = new OPCUAServer({
    port: opts.port,
    serverCertificateManager: manager('server'),
    userCertificateManager: manager('server-users'),
    ...(opts.secureUsers
      ? {
          securityModes: [MessageSecurityMode.SignAndEncrypt],
          securityPolicies: [SecurityPolicy.Basic256Sha256],
          allowAnonymous: false,
          userManager: {
            isValidUser: (user: string, password: string) => opts.secureUsers?.[user] === password,
          },
        }
      : {}),
  })
  await srv.initialize()
  const space = srv.engine.addressSpace!
  const ns = space.getOwnNamespace()
  await srv.start()
  return {
    url: `opc.tcp://127.0.0.1:${opts.port}`,
    variable: (name, dataType) =>
      ns.addVariable({
        organizedBy: space.rootFolder.objects,
        browseName: name,
        nodeId: `s=${name}`,
        dataType,
      }),
    close: () => srv.shutdown(0),
  }
}

const DATA_TYPES = {
  Double: DataType.Double,
  String: DataType.String,
  Boolean: DataType.Boolean,
  UInt32: DataType.UInt32,
}

/** Writes a value as the device would: its source time and a Good or BadSensorFailure status. */
export function writeValue(
  v: UAVariable,
  type: keyof typeof DATA_TYPES,
  value: OpcValue,
  opts: { at?: Date; bad?: boolean } = {},
): void {
  v.setValueFromSource(
    new Variant({ dataType: DATA_TYPES[type], value }),
    opts.bad ? StatusCodes.BadSensorFailure : StatusCodes.Good,
    opts.at ?? new Date(),
  )
}

export interface MesOpcUaFace {
  readonly url: string
  /** the line's nodes as a PLC would move them at the end of an operation */
  completeOperation(input: CompletionInput): Promise<void>
  close(): Promise<void>
}

export async function startMesOpcUaFace(opts: {
  readonly port: number
  readonly pkiDir: string
  /** how long the "PLC" holds the values before raising OperationComplete (default 200 ms) */
  readonly settleMs?: number
}): Promise<MesOpcUaFace> {
  const srv = await startOpcUaServer(opts)
  const nodes = new Map<string, { v: UAVariable; type: keyof typeof DATA_TYPES }>()
  const write = (name: string, type: keyof typeof DATA_TYPES, value: OpcValue) => {
    let n = nodes.get(name)
    if (!n) {
      n = { v: srv.variable(name, type), type }
      nodes.set(name, n)
    }
    writeValue(n.v, n.type, value)
  }
  const counts = new Map<string, number>()
  return {
    url: srv.url,
    async completeOperation(input) {
      const line = input.line
      write(`${line}.OperationComplete`, 'Boolean', false)
      write(`${line}.Order`, 'String', input.orderId)
      write(`${line}.Operation`, 'String', input.operation)
      write(`${line}.Lot`, 'String', input.produced?.[0]?.lot ?? '')
      for (const m of input.measurements ?? []) write(`${line}.${m.characteristic}`, 'Double', m.value)
      // A PLC raises the flag after the values are in place; a client sampling faster sees them first.
      await new Promise((r) => setTimeout(r, opts.settleMs ?? 200))
      const count = (counts.get(line) ?? 0) + 1
      counts.set(line, count)
      write(`${line}.CompletedCount`, 'UInt32', count)
      write(`${line}.OperationComplete`, 'Boolean', true)
    },
    close: () => srv.close(),
  }
}
