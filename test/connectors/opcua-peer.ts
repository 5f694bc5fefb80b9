/**
 * An OPC UA server (node-opcua-server) standing in for a machine's PLC: a diameter gauge, the
 * order/operation/lot it is working on, and an OperationComplete flag and counter. It keeps its
 * values across `restart()` (a new server on the same port, as after a PLC reboot).
 */
import path from 'node:path'
import certificateManager from 'node-opcua-certificate-manager'
import opcua from 'node-opcua-client'
import server from 'node-opcua-server'

const { DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant } = opcua
const { OPCUACertificateManager } = certificateManager
const { OPCUAServer } = server

type OpcServer = InstanceType<typeof OPCUAServer>
type UAVariable = ReturnType<
  ReturnType<NonNullable<OpcServer['engine']['addressSpace']>['getOwnNamespace']>['addVariable']
>

export const PEER_NODES = {
  diameter: { id: 'ns=1;s=Line1.Diameter', type: DataType.Double, initial: 12 },
  temperature: { id: 'ns=1;s=Line1.Temperature', type: DataType.Double, initial: 60 },
  order: { id: 'ns=1;s=Line1.Order', type: DataType.String, initial: '' },
  operation: { id: 'ns=1;s=Line1.Operation', type: DataType.String, initial: '' },
  lot: { id: 'ns=1;s=Line1.Lot', type: DataType.String, initial: '' },
  complete: { id: 'ns=1;s=Line1.OperationComplete', type: DataType.Boolean, initial: false },
  counter: { id: 'ns=1;s=Line1.CompletedCount', type: DataType.UInt32, initial: 0 },
} as const
export type PeerNode = keyof typeof PEER_NODES

export interface OpcUaPeer {
  readonly url: string
  /** sets a value as the PLC would: its source time (default now) and status (default Good) */
  set(node: PeerNode, value: number | string | boolean, opts?: { at?: Date; bad?: boolean }): void
  restart(): Promise<void>
  close(): Promise<void>
}

export interface OpcUaPeerOptions {
  readonly port: number
  readonly pkiDir: string
  /** only SignAndEncrypt with Basic256Sha256, no anonymous session: these users (name → password) */
  readonly secureUsers?: Readonly<Record<string, string>>
}

export async function startOpcUaPeer(opts: OpcUaPeerOptions): Promise<OpcUaPeer> {
  const current = new Map<PeerNode, { value: number | string | boolean; at: Date; bad: boolean }>()
  let srv: OpcServer
  const variables = new Map<PeerNode, UAVariable>()
  const write = (node: PeerNode) => {
    const v = current.get(node)
    if (!v) return
    variables
      .get(node)!
      .setValueFromSource(
        new Variant({ dataType: PEER_NODES[node].type, value: v.value }),
        v.bad ? StatusCodes.BadSensorFailure : StatusCodes.Good,
        v.at,
      )
  }
  const start = async () => {
    srv = new OPCUAServer({
      port: opts.port,
      serverCertificateManager: new OPCUACertificateManager({
        rootFolder: path.join(opts.pkiDir, 'server'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      userCertificateManager: new OPCUACertificateManager({
        rootFolder: path.join(opts.pkiDir, 'server-users'),
        automaticallyAcceptUnknownCertificate: true,
      }),
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
    for (const [name, n] of Object.entries(PEER_NODES) as Array<[PeerNode, (typeof PEER_NODES)[PeerNode]]>) {
      const dataType = DataType[n.type] as string
      variables.set(
        name,
        ns.addVariable({
          organizedBy: space.rootFolder.objects,
          browseName: name,
          nodeId: n.id.replace('ns=1;', ''),
          dataType,
        }),
      )
      if (!current.has(name)) current.set(name, { value: n.initial, at: new Date(), bad: false })
      write(name)
    }
    await srv.start()
  }
  await start()
  return {
    url: `opc.tcp://127.0.0.1:${opts.port}`,
    set(node, value, o = {}) {
      current.set(node, { value, at: o.at ?? new Date(), bad: o.bad ?? false })
      write(node)
    },
    async restart() {
      await srv.shutdown(0)
      await start()
    },
    close: () => srv.shutdown(0),
  }
}
