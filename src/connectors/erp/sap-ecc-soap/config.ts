/**
 * qualink.yaml `connectors[].config` of kind erp/sap-ecc-soap (docs/connectors.md). The password
 * comes from an environment variable or a file (sdk/secrets.ts), never from the YAML itself.
 */
import { type Static, Type } from 'typebox'
import { EgressSettings } from '../../sdk/define-connector.ts'
import { exactlyOneSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'

export const SapEccSoapConfig = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^/]+$',
      description: 'scheme://host:port of the ECC ICM; the WSDL and every SOAP call go there',
    }),
    /**
     * Where the WSDL is read (SAP: SICF /sap/bc/soap/wsdl11?services=FM1,FM2). Without a query the
     * connector asks for the function modules it needs.
     */
    wsdlPath: Type.String({ pattern: '^/[^#]*$', default: '/sap/bc/soap/wsdl11' }),
    /** SAP client (sap-client query parameter, 3 digits) when the ICM does not default to the right one */
    sapClient: Type.Optional(Type.String({ pattern: '^[0-9]{3}$' })),
    auth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 12 }),
          passwordEnv: SecretEnvField(),
          passwordFile: SecretFileField(),
        },
        { additionalProperties: false, ...exactlyOneSecret('password') },
      ),
    ),
    /** ENTRY_QNT is DEC 13,3 in BAPI2017_GM_ITEM_CREATE: quantities travel with three decimals */
    quantityScale: Type.Integer({ minimum: 0, maximum: 6, default: 3 }),
    /** STGE_LOC of every goods-movement item; the reserves bucket posts to `reservesStorageLocation` */
    storageLocation: Type.Optional(Type.String({ minLength: 1, maxLength: 4 })),
    reservesStorageLocation: Type.String({ minLength: 1, maxLength: 4, default: 'RSRV' }),
    /** LANGUAGE of the inspection-lot BAPIs (SAP language key) */
    language: Type.String({ pattern: '^[A-Z0-9]{1,2}$', default: 'EN' }),
    /** timeouts, rate limit, circuit breaker toward the ICM */
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false },
)
export type SapEccSoapConfig = Static<typeof SapEccSoapConfig>
