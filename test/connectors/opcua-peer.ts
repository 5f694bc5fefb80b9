/**
 * An OPC UA server (the MES simulator's, simulators/mes/opcua-face.ts) standing in for a machine's
 * PLC: a diameter gauge, the order/operation/lot it is working on, and an OperationComplete flag
 * and counter, set value by value with their source time and status. It keeps its values across
 * `restart()` (a new server on the same port, as after a PLC reboot).
 */
import {
  type OpcUaServerOptions,
  type OpcUaTestServer,
  type OpcValue,
  startOpcUaServer,
  type UAVariable,
  writeValue,
} from '../../simulators/mes/opcua-face.ts'

type NodeType = 'Double' | 'String' | 'Boolean' | 'UInt32'

export const PEER_NODES = {
  diameter: { id: 'ns=1;s=Line1.Diameter', type: 'Double', initial: 12 },
  temperature: { id: 'ns=1;s=Line1.Temperature', type: 'Double', initial: 60 },
  order: { id: 'ns=1;s=Line1.Order', type: 'String', initial: '' },
  operation: { id: 'ns=1;s=Line1.Operation', type: 'String', initial: '' },
  lot: { id: 'ns=1;s=Line1.Lot', type: 'String', initial: '' },
  complete: { id: 'ns=1;s=Line1.OperationComplete', type: 'Boolean', initial: false },
  counter: { id: 'ns=1;s=Line1.CompletedCount', type: 'UInt32', initial: 0 },
} as const satisfies Record<string, { id: string; type: NodeType; initial: OpcValue }>
export type PeerNode = keyof typeof PEER_NODES

export interface OpcUaPeer {
  readonly url: string
  /** sets a value as the PLC would: its source time (default now) and status (default Good) */
  set(node: PeerNode, value: OpcValue, opts?: { at?: Date; bad?: boolean }): void
  restart(): Promise<void>
  close(): Promise<void>
}

export async function startOpcUaPeer(opts: OpcUaServerOptions): Promise<OpcUaPeer> {
  const current = new Map<PeerNode, { value: OpcValue; at: Date; bad: boolean }>()
  const variables = new Map<PeerNode, UAVariable>()
  let srv: OpcUaTestServer
  const write = (node: PeerNode) => {
    const v = current.get(node)
    if (v) writeValue(variables.get(node)!, PEER_NODES[node].type, v.value, v)
  }
  const start = async () => {
    srv = await startOpcUaServer(opts)
    for (const [name, n] of Object.entries(PEER_NODES) as Array<[PeerNode, (typeof PEER_NODES)[PeerNode]]>) {
      variables.set(name, srv.variable(n.id.replace('ns=1;s=', ''), n.type))
      if (!current.has(name)) current.set(name, { value: n.initial, at: new Date(), bad: false })
      write(name)
    }
  }
  await start()
  return {
    url: srv!.url,
    set(node, value, o = {}) {
      current.set(node, { value, at: o.at ?? new Date(), bad: o.bad ?? false })
      write(node)
    },
    async restart() {
      await srv.close()
      await start()
    },
    close: () => srv.close(),
  }
}
