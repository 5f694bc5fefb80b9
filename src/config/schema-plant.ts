/** qualink.yaml `plants.<code>`: a plant's systems, sampling, SPC, release, id mapping and deadlines. */
import { type Static, Type } from 'typebox'
import { MAPPED_ENTITIES } from '../mapping/id-mapping.ts'
import { CAPA_POLICIES } from '../model/supplier-status.ts'
import { AQLS, INSPECTION_LEVELS } from '../rules/index.ts'
import { byName, closed, Duration, Name, PlantCode } from './schema-parts.ts'

export const SamplingSettings = Type.Object(
  {
    level: Type.Enum([...INSPECTION_LEVELS], { default: 'II' }),
    aql: Type.Enum([...AQLS], { default: '1.0' }),
    severity: Type.Enum(['normal', 'tightened', 'reduced'], { default: 'normal' }),
  },
  closed,
)
export type SamplingSettings = Static<typeof SamplingSettings>

export const SPC_RULE_IDS = [
  ...Array.from({ length: 8 }, (_, i) => `nelson-${i + 1}`),
  ...Array.from({ length: 4 }, (_, i) => `we-${i + 1}`),
] as const
export const RELEASE_CHECKPOINTS = ['lims-results', 'packaging-verification', 'qms-approval'] as const

/**
 * Designated test records for `qualink synthetic run` (docs/operations.md "Synthetic
 * transactions"): it refuses to run a plant without them, and touches nothing else.
 */
export const SyntheticConfig = Type.Object(
  {
    /** ERP material numbers kept for testing; the first is received, inspected and returned */
    materials: Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { minItems: 1, uniqueItems: true }),
    supplier: Type.Optional(Type.String({ minLength: 1, maxLength: 10 })),
    /** whole units of `unit` received per run (default 1) */
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    unit: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,3}$' })),
    /** start of each run's batch number (SAP batches are 10 characters; 8 are added) */
    batchPrefix: Type.Optional(Type.String({ pattern: '^[A-Z]{1,2}$' })),
    /** usage-decision code recorded in the ERP for the accepted test lot (default A1) */
    usageDecisionCode: Type.Optional(Type.String({ minLength: 1, maxLength: 4 })),
    /** a test production order: held and released again (in-process check) */
    productionOrder: Type.Optional(Type.String({ minLength: 1, maxLength: 12 })),
    /** a test outbound delivery: blocked, released and put back as it was (finished-goods release) */
    delivery: Type.Optional(Type.String({ minLength: 1, maxLength: 10 })),
  },
  closed,
)
export type SyntheticConfig = Static<typeof SyntheticConfig>

export const PlantConfig = Type.Object(
  {
    description: Type.Optional(Type.String()),
    /** connector names (kind erp/…, qms/…, notify/…) */
    erp: Name,
    qms: Name,
    notify: Type.Optional(Name),
    /** connector name (kind mes/…): where inspection specifications go to this plant's MES */
    mesPublisher: Type.Optional(Name),
    /** connector of kind edi/… (the 861 receiving advice to this plant's EDI suppliers) */
    edi: Type.Optional(Name),
    /** ingress source names (an MQTT/webhook source with a mes translator; a source with a lims or crm translator) */
    mes: Type.Optional(Name),
    lims: Type.Optional(Name),
    crm: Type.Optional(Name),
    sampling: Type.Optional(
      Type.Object(
        {
          default: SamplingSettings,
          /** material group (ERP) → sampling; a group not listed uses `default` */
          materialGroups: Type.Optional(Type.Record(Type.String({ minLength: 1 }), SamplingSettings)),
          /** material (the ERP's number) → its material group (a key of `materialGroups`) */
          materials: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
        },
        closed,
      ),
    ),
    spc: Type.Optional(
      Type.Object(
        {
          ruleSet: Type.Enum(['western-electric', 'nelson'], { default: 'western-electric' }),
          /** ids of the enabled rules of the set; default all of them */
          enabled: Type.Optional(Type.Array(Type.Enum([...SPC_RULE_IDS]), { uniqueItems: true })),
        },
        closed,
      ),
    ),
    release: Type.Optional(
      Type.Object(
        {
          /** product family → checkpoints that must all pass before the delivery block is removed */
          productFamilies: Type.Record(
            Type.String({ minLength: 1 }),
            Type.Object(
              {
                checkpoints: Type.Array(Type.Enum([...RELEASE_CHECKPOINTS]), {
                  minItems: 1,
                  uniqueItems: true,
                }),
                deadline: Type.Optional(Duration),
              },
              closed,
            ),
          ),
          /** finished material → its product family (a key of `productFamilies`); others: all three checkpoints */
          materials: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
        },
        closed,
      ),
    ),
    /**
     * Identity mapping per source or connector of this plant (src/mapping/id-mapping.ts): which
     * kinds of id that system numbers its own way (xref rows under `system`, default the name),
     * and whether a code without a mapping is rejected (QLK_XREF_MISSING) or passed unchanged;
     * `plants` declares the system's plant codes here instead of as xref rows.
     */
    idMapping: Type.Optional(
      byName(
        Type.Object(
          {
            entities: Type.Array(Type.Enum([...MAPPED_ENTITIES]), { minItems: 1, uniqueItems: true }),
            unknown: Type.Enum(['reject', 'pass']),
            system: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            /** the system's plant codes: external code → Qualink plant (entity `plant`; checks.ts) */
            plants: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 64 }), PlantCode)),
          },
          closed,
        ),
      ),
    ),
    /** supplier quality status: what an open supplier corrective action does in this plant's ERP */
    supplierQuality: Type.Optional(
      Type.Object(
        {
          /** block-purchasing: the supplier master's purchasing block while a CAPA is open; none: nothing */
          onCorrectiveAction: Type.Enum([...CAPA_POLICIES]),
        },
        closed,
      ),
    ),
    /** QMS–ERP reconciliation for this plant (runs when top-level `reconciliation` is set) */
    reconciliation: Type.Optional(
      Type.Object(
        {
          /** alert: record drift only; heal: also correct the ERP, once per drift */
          policy: Type.Enum(['alert', 'heal']),
        },
        closed,
      ),
    ),
    synthetic: Type.Optional(SyntheticConfig),
    deadlines: Type.Optional(
      Type.Object(
        {
          usageDecision: Type.Optional(Duration),
          nonconformanceDisposition: Type.Optional(Duration),
          release: Type.Optional(Duration),
          /** escalations before a run gives up and dead-letters */
          maxEscalations: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
        },
        closed,
      ),
    ),
  },
  closed,
)
export type PlantConfig = Static<typeof PlantConfig>
