/**
 * `edi/x12`: EDI X12 with trading partners over the folder transport. Egress is the EdiPort (an
 * 861 receiving advice after a usage decision, advice-port.ts) written to `outboundDir`; ingress,
 * when `inbound` is set, is a watched folder of partner interchanges (856 ship notices, 997s of our
 * 861s) that are stored, translated and acknowledged (TA1/997) back into `outboundDir`
 * (inbound.ts). No HTTP: the connector has no egress targets.
 */
import path from 'node:path'
import { type Static, Type } from 'typebox'
import type { FieldProblem } from '../../../contracts/errors.ts'
import { PermanentError } from '../../../engine/errors.ts'
import { parseDuration } from '../../../engine/retry.ts'
import type { StoreRef } from '../../../store/types.ts'
import type { EdiPort } from '../../../workflows/ports/edi.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import { ConnectorConfigError } from '../../sdk/secrets.ts'
import { DEFAULT_ACK_OVERDUE_MS, type X12AdviceConfig, x12ReceivingAdvicePort } from './advice-port.ts'

const closed = { additionalProperties: false } as const

/** X12.5: ISA05/07 are ID 2/2, ISA06/08 AN 15 (space padded), GS02/03 AN 2/15; no delimiter in them. */
const Party = {
  qualifier: Type.String({
    pattern: '^[A-Z0-9]{2}$',
    description: 'ISA05/07, e.g. ZZ (mutually defined), 01 (DUNS)',
  }),
  interchangeId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,14}$', description: 'ISA06/08' }),
  applicationId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{1,14}$', description: 'GS02/03' }),
}

export const X12ConnectorConfig = Type.Object(
  {
    /** Qualink's own interchange identity */
    self: Type.Object(Party, closed),
    /** where partners pick up our 861s and acknowledgments; relative to qualink.yaml */
    outboundDir: Type.String({ minLength: 1 }),
    /** supplier id as the ERP's goods receipt names it → that supplier as a trading partner */
    partners: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
      Type.Object(
        {
          ...Party,
          /** ISA15 of what we send: P production, T test */
          usage: Type.Enum(['P', 'T']),
          /** RCD08 (code list 412) for rejected quantities, from the partner's implementation guide */
          rejectedConditionCode: Type.String({ pattern: '^[A-Z0-9]{2}$' }),
        },
        closed,
      ),
      { minProperties: 1 },
    ),
    /** the partners' drop folder: their 856s and 997s, acknowledged with TA1/997 into outboundDir */
    inbound: Type.Optional(
      Type.Object(
        {
          dir: Type.String({ minLength: 1 }),
          /** the plant inbound interchanges belong to */
          plant: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$' }),
          pollMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
          settleMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
        },
        closed,
      ),
    ),
    acknowledgments: Type.Optional(
      Type.Object(
        {
          /** an 861 without the partner's 997 after this long is overdue (default 24h) */
          overdueAfter: Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' }),
        },
        closed,
      ),
    ),
  },
  closed,
)
export type X12ConnectorConfig = Static<typeof X12ConnectorConfig>

/** What the schema cannot say: partners must be told apart by their envelope, folders kept apart. */
export function x12ConfigProblems(c: X12ConnectorConfig): FieldProblem[] {
  const out: FieldProblem[] = []
  const seen = new Map<string, string>()
  seen.set(`${c.self.qualifier}:${c.self.interchangeId}`, 'self')
  for (const [id, p] of Object.entries(c.partners)) {
    const key = `${p.qualifier}:${p.interchangeId}`
    const other = seen.get(key)
    if (other !== undefined)
      out.push({
        path: `/partners/${id}/interchangeId`,
        message: `${p.qualifier}/${p.interchangeId} is also ${other === 'self' ? 'our own id (self)' : `partner '${other}'`}: inbound interchanges could not be told apart`,
      })
    else seen.set(key, id)
  }
  if (c.inbound && path.resolve(c.inbound.dir) === path.resolve(c.outboundDir))
    out.push({
      path: '/inbound/dir',
      message: 'must differ from outboundDir: our own acknowledgments would be read back as inbound',
    })
  return out
}

export function x12AdviceConfig(c: X12ConnectorConfig, name: string, baseDir: string): X12AdviceConfig {
  return {
    self: c.self,
    outboundDir: path.resolve(baseDir, c.outboundDir),
    partners: Object.fromEntries(Object.entries(c.partners).map(([id, p]) => [id, { id, ...p }])),
    connector: name,
    overdueAfterMs: c.acknowledgments
      ? parseDuration(c.acknowledgments.overdueAfter)
      : DEFAULT_ACK_OVERDUE_MS,
  }
}

/** The EdiPort over a store bound later (startQualink): connectors are built before it opens. */
export function boundAdvicePort(store: StoreRef | undefined, cfg: X12AdviceConfig): EdiPort {
  return {
    sendReceivingAdvice(input) {
      if (!store?.current)
        throw new PermanentError('QLK_CONFIG_INVALID', `EDI connector ${cfg.connector}: no store bound`)
      return x12ReceivingAdvicePort(store.current, cfg).sendReceivingAdvice(input)
    },
  }
}

export const x12Connector = defineConnector({
  kind: 'edi/x12',
  description: 'EDI X12 over the folder transport: 861 receiving advice out; 856 and 997 in, acknowledged',
  configSchema: X12ConnectorConfig,
  actions: ['sendReceivingAdvice'],
  targets: () => [],
  create: (config, ctx): EdiPort => {
    const problems = x12ConfigProblems(config)
    if (problems.length > 0) throw new ConnectorConfigError('edi/x12', ctx.name, problems)
    return boundAdvicePort(ctx.store, x12AdviceConfig(config, ctx.name, ctx.environment.baseDir))
  },
})
