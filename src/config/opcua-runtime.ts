/** `ingress.opcua` (validated) → the OPC UA sources startQualink runs (connectors/mes/opcua/source.ts). */
import path from 'node:path'
import type { Static } from 'typebox'
import type { OpcUaContextNodes, OpcUaSourceConfig } from '../connectors/mes/opcua/source.ts'
import { parseDuration } from '../engine/retry.ts'
import { OPCUA_TRANSLATOR } from './kinds.ts'
import { seg } from './problems.ts'
import type { OpcUaConfig } from './schema-opcua.ts'
import type { SecretRef } from './schema-parts.ts'

type Source = Static<typeof OpcUaConfig>

export function opcUaSources(
  sources: Readonly<Record<string, Source>>,
  opts: {
    /** the PKI folders go under it unless a source names its own */
    readonly dataDir: string
    readonly baseDir: string
    readonly secret: (ref: Static<typeof SecretRef>, at: string) => string
    readonly translatorOf: (name: string, kind: string, plant: string) => unknown
  },
): OpcUaSourceConfig[] {
  return Object.entries(sources).map(([name, s]) => {
    opts.translatorOf(name, OPCUA_TRANSLATOR, s.plant)
    const context = (c: Source['context']): OpcUaContextNodes => ({ ...(c ?? {}) })
    const mode = s.securityMode ?? 'None'
    return {
      name,
      plant: s.plant,
      endpoint: s.endpoint,
      securityMode: mode,
      securityPolicy: s.securityPolicy ?? 'None',
      username: s.username,
      password: s.password && opts.secret(s.password, `/ingress/opcua/${seg(name)}/password`),
      pkiDir: s.pkiDir ? path.resolve(opts.baseDir, s.pkiDir) : path.join(opts.dataDir, 'opcua-pki', name),
      samplingIntervalMs: parseDuration(s.samplingInterval ?? '250ms'),
      publishingIntervalMs: parseDuration(s.publishingInterval ?? '1s'),
      measurements: s.measurements.map((m) => ({
        nodeId: m.nodeId,
        characteristic: m.characteristic,
        unit: m.unit,
        equipment: m.equipment ?? s.equipment,
        context: context(m.context ?? s.context),
        sampling: m.sampling?.every
          ? { every: m.sampling.every }
          : m.sampling?.window
            ? { windowMs: parseDuration(m.sampling.window) }
            : { none: true as const },
        atCompletion: m.atCompletion ?? 'last',
        deadband: m.deadband,
      })),
      completion: s.completion && {
        nodeId: s.completion.nodeId,
        equipment: s.completion.equipment ?? s.equipment,
        context: context(s.completion.context ?? s.context),
      },
      reconnect: s.reconnect && {
        initialDelayMs: parseDuration(s.reconnect.initialDelay),
        maxDelayMs: parseDuration(s.reconnect.maxDelay),
      },
    }
  })
}
