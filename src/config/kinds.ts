/**
 * What qualink.yaml may name: connector kinds (each validates its own `config`), translator
 * kinds for ingress sources, and configurable workflows (each declares its own settings schema
 * and how a plant's settings feed it). A new connector, translator or workflow is added here, once.
 */
import { type Static, type TSchema, Type } from 'typebox'
import { crmWebhookTranslator } from '../connectors/crm/webhook/translator.ts'
import { x12ConfigProblems, x12Connector } from '../connectors/edi/x12/connector.ts'
import { erpNextConnector } from '../connectors/erp/erpnext/connector.ts'
import { erpNextReceiptTranslator } from '../connectors/erp/erpnext/receipt-translator.ts'
import { sapEccIdocConnector } from '../connectors/erp/sap-ecc-idoc/connector.ts'
import { sapEccSoapConnector } from '../connectors/erp/sap-ecc-soap/connector.ts'
import { sapS4Connector } from '../connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../connectors/erp/sap-s4/gr-translator.ts'
import { checkLimsFile, limsCsvTranslator } from '../connectors/lims/csv/translator.ts'
import { mesMqttConnector } from '../connectors/mes/mqtt/connector.ts'
import { mesTranslator } from '../connectors/mes/mqtt/translator.ts'
import { opcUaTranslator } from '../connectors/mes/opcua/translator.ts'
import { notifyWebhookConnector } from '../connectors/notify/webhook/connector.ts'
import { qmsRestConnector } from '../connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../connectors/qms/rest/webhook-translator.ts'
import type { Connector } from '../connectors/sdk/define-connector.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import type { Translator } from '../engine/translation-stage.ts'
import type { WorkflowDefinition } from '../engine/workflow.ts'
import type { IdMappingSettings } from '../mapping/id-mapping.ts'
import type { Bucket } from '../model/stock.ts'
import { CAPA_POLICIES } from '../model/supplier-status.ts'
import { AQLS, INSPECTION_LEVELS } from '../rules/index.ts'
import {
  type ComplaintSettings,
  complaintTraceability,
  DEFAULT_COMPLAINT_SETTINGS,
} from '../workflows/complaint-traceability.ts'
import {
  DEFAULT_EDI_RECEIVING_ADVICE_SETTINGS,
  type EdiReceivingAdviceSettings,
  ediReceivingAdvice,
} from '../workflows/edi-receiving-advice.ts'
import {
  DEFAULT_RELEASE_SETTINGS,
  familyCondition,
  finishedGoodsRelease,
  type ReleaseSettings,
} from '../workflows/finished-goods-release.ts'
import {
  DEFAULT_IN_PROCESS_SETTINGS,
  type InProcessSettings,
  inProcessQualityCheck,
  RUN_RULE_IDS,
} from '../workflows/in-process-check.ts'
import { inspectionPlanDistribution } from '../workflows/inspection-plan-distribution.ts'
import { lotRelease } from '../workflows/lot-release.ts'
import {
  DEFAULT_SUPPLIER_QUALITY_SETTINGS,
  type SupplierQualitySettings,
  supplierQuality,
} from '../workflows/supplier-quality.ts'
import {
  DEFAULT_RECEIPT_SETTINGS,
  type ReceiptInspectionSettings,
  supplierReceiptInspection,
} from '../workflows/supplier-receipt-inspection.ts'
import type { PlantConfig } from './schema.ts'

export type SystemRole = 'erp' | 'qms' | 'notify' | 'mes' | 'lims' | 'crm' | 'edi'

export interface ConnectorKind {
  readonly connector: Pick<
    // biome-ignore lint/suspicious/noExplicitAny: connectors of different config schemas and ports sit side by side
    Connector<any, any>,
    'kind' | 'configSchema' | 'targets' | 'instantiate' | 'actions'
  >
  readonly role: SystemRole
  /** cross-field rules of a schema-valid config, paths relative to its `config` */
  // biome-ignore lint/suspicious/noExplicitAny: each kind reads its own config shape
  readonly configProblems?: (config: any) => FieldProblem[]
}

export const CONNECTORS: Readonly<Record<string, ConnectorKind>> = {
  'erp/sap-s4': { connector: sapS4Connector, role: 'erp' },
  'erp/erpnext': { connector: erpNextConnector, role: 'erp' },
  'erp/sap-ecc-idoc': { connector: sapEccIdocConnector, role: 'erp' },
  'erp/sap-ecc-soap': { connector: sapEccSoapConnector, role: 'erp' },
  'qms/rest': { connector: qmsRestConnector, role: 'qms' },
  'notify/webhook': { connector: notifyWebhookConnector, role: 'notify' },
  // a plant's `mesPublisher`: inspection specifications to its MES (its `mes` is an ingress source)
  'mes/mqtt': { connector: mesMqttConnector, role: 'mes' },
  'edi/x12': { connector: x12Connector, role: 'edi', configProblems: x12ConfigProblems },
}
export const CONNECTOR_KINDS = Object.keys(CONNECTORS)

export interface TranslatorKind {
  readonly name: string
  readonly ingress: 'webhook' | 'mqtt' | 'opcua' | 'fileDrop'
  /** the kind of system the source is, for a plant's `mes:` / `lims:` / `crm:` references */
  readonly role: SystemRole
  create(
    source: string,
    opts: {
      readonly mapMaterials?: boolean
      readonly ids?: IdMappingSettings | undefined
      /** the plant's erp/erpnext connector warehouses (bucket → warehouse), for its receipt webhooks */
      readonly erpWarehouses?: Readonly<Partial<Record<Bucket, string>>> | undefined
    },
  ): Translator
  /** structural check of a dropped file before anything is stored */
  readonly checkFile?: (fileName: string, content: Buffer) => FieldProblem[]
}

export const OPCUA_TRANSLATOR = 'mes-opcua'

export const TRANSLATORS: readonly TranslatorKind[] = [
  {
    name: 'sap-s4-goods-receipt',
    ingress: 'webhook',
    role: 'erp',
    create: (s, o) => sapS4GoodsReceiptTranslator(s, o.ids),
  },
  // ERPNext Purchase Receipt webhooks (Frappe Webhook on_submit/on_cancel; signatureScheme: frappe)
  {
    name: 'erpnext-purchase-receipt',
    ingress: 'webhook',
    role: 'erp',
    create: (s, o) => erpNextReceiptTranslator(s, { warehouses: o.erpWarehouses, ids: o.ids }),
  },
  {
    name: 'qms-rest-webhook',
    ingress: 'webhook',
    role: 'qms',
    create: (s, o) => qmsWebhookTranslator(s, o.ids),
  },
  // CRM `complaint.created` webhooks (X-CRM-Signature, X-CRM-Delivery-Id) → crm.complaint.opened.v1
  { name: 'crm-webhook', ingress: 'webhook', role: 'crm', create: (s, o) => crmWebhookTranslator(s, o.ids) },
  {
    name: 'mes-mqtt',
    ingress: 'mqtt',
    role: 'mes',
    create: (s, o) => mesTranslator({ source: s, mapMaterials: o.mapMaterials, ids: o.ids }),
  },
  // the one translator of ingress.opcua sources: sampled results and completions (connectors/mes/opcua)
  { name: OPCUA_TRANSLATOR, ingress: 'opcua', role: 'mes', create: (s, o) => opcUaTranslator(s, o.ids) },
  {
    name: 'lims-csv',
    ingress: 'fileDrop',
    role: 'lims',
    create: (s, o) => limsCsvTranslator(s, o.ids),
    checkFile: checkLimsFile,
  },
]

/**
 * A workflow qualink.yaml can enable. Settings per plant are, lowest first: `defaults` here,
 * the file's `workflows.<name>.defaults`, what the plant's own settings imply (`fromPlant`: a
 * plant's sampling and deadlines beat a workflow-wide default), then
 * `workflows.<name>.plants.<plant>`; the merge must satisfy `settings`.
 */
export interface ConfigurableWorkflow<S extends TSchema = TSchema> {
  readonly name: string
  readonly settings: S
  readonly defaults: Static<S>
  readonly fromPlant?: (plant: PlantConfig) => Record<string, unknown>
  /** which ports it needs, checked against every plant's assignments */
  readonly needs: readonly SystemRole[]
  /** ports a plant must have given its merged settings (config/checks.ts refuses a plant without them) */
  readonly needsWhen?: (settings: Static<S>) => readonly SystemRole[]
  // biome-ignore lint/suspicious/noExplicitAny: workflows of different port and config types run side by side
  create(settingsFor: (plant: string) => Static<S>): WorkflowDefinition<any, any>
}

const ReceiptSettings = Type.Object(
  {
    sampling: Type.Object(
      {
        level: Type.Enum([...INSPECTION_LEVELS]),
        aql: Type.Enum([...AQLS]),
        severity: Type.Enum(['normal', 'tightened', 'reduced']),
      },
      { additionalProperties: false },
    ),
    decisionDeadline: Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' }),
    maxEscalations: Type.Integer({ minimum: 1, maximum: 20 }),
    materialGroups: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    materialGroupOf: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
)

const receiptInspection: ConfigurableWorkflow<typeof ReceiptSettings> = {
  name: 'supplier-receipt-inspection',
  settings: ReceiptSettings,
  defaults: DEFAULT_RECEIPT_SETTINGS as Static<typeof ReceiptSettings>,
  fromPlant: (p) => ({
    ...(p.sampling ? { sampling: p.sampling.default } : {}),
    ...(p.sampling?.materialGroups ? { materialGroups: p.sampling.materialGroups } : {}),
    ...(p.sampling?.materials ? { materialGroupOf: p.sampling.materials } : {}),
    ...(p.deadlines?.usageDecision ? { decisionDeadline: p.deadlines.usageDecision } : {}),
    ...(p.deadlines?.maxEscalations ? { maxEscalations: p.deadlines.maxEscalations } : {}),
  }),
  needs: ['erp', 'qms'],
  create: (settingsFor) =>
    supplierReceiptInspection((plant) => settingsFor(plant) as ReceiptInspectionSettings),
}

const Duration = Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' })

const InProcessSettingsSchema = Type.Object(
  {
    characteristics: Type.Record(
      Type.String({ pattern: '^[A-Z0-9_-]{1,64}$' }),
      Type.Object(
        {
          unit: Type.String({ minLength: 1 }),
          tolerance: Type.Unknown({
            description: 'two-sided | upper-only | lower-only | target (rules/spec-limits.ts)',
          }),
          baseline: Type.Optional(
            Type.Object({ center: Type.Number(), sigma: Type.Number({ exclusiveMinimum: 0 }) }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    runRules: Type.Array(Type.Enum([...RUN_RULE_IDS]), { uniqueItems: true }),
    window: Type.Integer({ minimum: 2, maximum: 500 }),
    dispositionDeadline: Duration,
    maxEscalations: Type.Integer({ minimum: 1, maximum: 20 }),
    /** post each completion's yield to the ERP as an order confirmation, held with the order */
    confirmToErp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const inProcess: ConfigurableWorkflow<typeof InProcessSettingsSchema> = {
  name: 'in-process-quality-check',
  settings: InProcessSettingsSchema,
  defaults: DEFAULT_IN_PROCESS_SETTINGS as Static<typeof InProcessSettingsSchema>,
  // The plant's SPC choice (schema: spc.ruleSet, spc.enabled; checks.ts keeps them consistent)
  // becomes the workflow's run rules: the enabled ids, or every rule of the chosen set.
  fromPlant: (p) => ({
    ...(p.deadlines?.nonconformanceDisposition
      ? { dispositionDeadline: p.deadlines.nonconformanceDisposition }
      : {}),
    ...(p.deadlines?.maxEscalations ? { maxEscalations: p.deadlines.maxEscalations } : {}),
    ...(p.spc
      ? {
          runRules:
            p.spc.enabled ??
            RUN_RULE_IDS.filter((id) => id.startsWith(p.spc!.ruleSet === 'nelson' ? 'nelson-' : 'we-')),
        }
      : {}),
  }),
  needs: ['erp', 'qms'],
  create: (settingsFor) => inProcessQualityCheck((plant) => settingsFor(plant) as InProcessSettings),
}

const ComplaintSettingsSchema = Type.Object(
  {
    blockOn: Type.Array(Type.Enum(['minor', 'major', 'critical'])),
    depth: Type.Integer({ minimum: 1, maximum: 50 }),
  },
  { additionalProperties: false },
)

const complaint: ConfigurableWorkflow<typeof ComplaintSettingsSchema> = {
  name: 'complaint-traceability',
  settings: ComplaintSettingsSchema,
  defaults: DEFAULT_COMPLAINT_SETTINGS as Static<typeof ComplaintSettingsSchema>,
  needs: ['erp', 'qms'],
  create: (settingsFor) => complaintTraceability((plant) => settingsFor(plant) as ComplaintSettings),
}

const ReleaseSettingsSchema = Type.Object(
  {
    condition: Type.Unknown({ description: 'all/any of { checkpoint: lab | packaging | qms-approval }' }),
    deadline: Duration,
    productFamilies: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { condition: Type.Unknown(), deadline: Type.Optional(Duration) },
          { additionalProperties: false },
        ),
      ),
    ),
    familyOf: Type.Optional(Type.Record(Type.String(), Type.String())),
    maxEscalations: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  },
  { additionalProperties: false },
)

const release: ConfigurableWorkflow<typeof ReleaseSettingsSchema> = {
  name: 'finished-goods-release',
  settings: ReleaseSettingsSchema,
  defaults: DEFAULT_RELEASE_SETTINGS as Static<typeof ReleaseSettingsSchema>,
  fromPlant: (p) => ({
    ...(p.deadlines?.release ? { deadline: p.deadlines.release } : {}),
    ...(p.deadlines?.maxEscalations ? { maxEscalations: p.deadlines.maxEscalations } : {}),
    ...(p.release
      ? {
          productFamilies: Object.fromEntries(
            Object.entries(p.release.productFamilies).map(([f, v]) => [
              f,
              { condition: familyCondition(v.checkpoints), ...(v.deadline ? { deadline: v.deadline } : {}) },
            ]),
          ),
          familyOf: p.release.materials ?? {},
        }
      : {}),
  }),
  needs: ['erp'],
  create: (settingsFor) => finishedGoodsRelease((plant) => settingsFor(plant) as ReleaseSettings),
}

const SupplierQualitySchema = Type.Object(
  { onCorrectiveAction: Type.Enum([...CAPA_POLICIES]) },
  { additionalProperties: false },
)

const supplierStatus: ConfigurableWorkflow<typeof SupplierQualitySchema> = {
  name: 'supplier-quality-status',
  settings: SupplierQualitySchema,
  defaults: DEFAULT_SUPPLIER_QUALITY_SETTINGS,
  fromPlant: (p) => (p.supplierQuality ? { onCorrectiveAction: p.supplierQuality.onCorrectiveAction } : {}),
  needs: ['erp'],
  create: (settingsFor) => supplierQuality((plant) => settingsFor(plant) as SupplierQualitySettings),
}

const NoSettings = Type.Object({}, { additionalProperties: false })

const planDistribution: ConfigurableWorkflow<typeof NoSettings> = {
  name: 'inspection-plan-distribution',
  settings: NoSettings,
  defaults: {},
  needs: ['qms'],
  create: () => inspectionPlanDistribution(),
}

const lotReleaseKind: ConfigurableWorkflow<typeof NoSettings> = {
  name: 'lot-release',
  settings: NoSettings,
  defaults: {},
  needs: ['erp'],
  create: () => lotRelease(),
}

const EdiAdviceSettings = Type.Object({ send861: Type.Boolean() }, { additionalProperties: false })

/** The 861 after a usage decision: on for a plant that names an edi connector, unless its settings say otherwise. */
const receivingAdvice: ConfigurableWorkflow<typeof EdiAdviceSettings> = {
  name: 'edi-receiving-advice',
  settings: EdiAdviceSettings,
  defaults: DEFAULT_EDI_RECEIVING_ADVICE_SETTINGS,
  fromPlant: (p) => (p.edi ? { send861: true } : {}),
  needs: ['edi'],
  needsWhen: (s) => (s.send861 ? ['edi'] : []),
  create: (settingsFor) => ediReceivingAdvice((plant) => settingsFor(plant) as EdiReceivingAdviceSettings),
}

// biome-ignore lint/suspicious/noExplicitAny: each workflow has its own settings schema
export const WORKFLOWS: Readonly<Record<string, ConfigurableWorkflow<any>>> = {
  [receiptInspection.name]: receiptInspection,
  [inProcess.name]: inProcess,
  [complaint.name]: complaint,
  [release.name]: release,
  [supplierStatus.name]: supplierStatus,
  [planDistribution.name]: planDistribution,
  [lotReleaseKind.name]: lotReleaseKind,
  [receivingAdvice.name]: receivingAdvice,
}
export const WORKFLOW_NAMES = Object.keys(WORKFLOWS)
