/** qualink.yaml `connectors[].config` of kind erp/sap-s4. The password comes from an environment variable or a file. */
import { type Static, Type } from 'typebox'
import { EgressSettings } from '../../sdk/define-connector.ts'
import { exactlyOneSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'

export const SapS4Config = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^/]+$',
      description: 'scheme://host:port of the Gateway; the OData services live under /sap/opu/odata/sap',
    }),
    auth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1 }),
          passwordEnv: SecretEnvField(),
          passwordFile: SecretFileField(),
        },
        { additionalProperties: false, ...exactlyOneSecret('password') },
      ),
    ),
    /** SAP DEC 13,3 (quality-domain.md §1.4): quantities travel with three decimals */
    quantityScale: Type.Integer({ minimum: 0, maximum: 6, default: 3 }),
    /** storage location whose blocked stock is the reserves bucket (VMENGE05 posts there) */
    reservesStorageLocation: Type.String({ minLength: 1, maxLength: 4, default: 'RSRV' }),
    /** DeliveryBlockReason set by setDeliveryBlock (customizing, TVLS) */
    deliveryBlockReason: Type.String({ minLength: 1, maxLength: 2, default: '01' }),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false },
)
export type SapS4Config = Static<typeof SapS4Config>

export const SERVICES = {
  lots: '/sap/opu/odata/sap/API_INSPECTIONLOT_SRV',
  documents: '/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV',
  stock: '/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV',
  orders: '/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV',
  deliveries: '/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002',
  suppliers: '/sap/opu/odata/sap/API_BUSINESS_PARTNER',
  confirmations: '/sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV',
} as const
