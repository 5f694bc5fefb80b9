/**
 * qualink.yaml `connectors[].config` of kind erp/sap-ecc-idoc (docs/connectors.md). The password,
 * when the IDoc-XML HTTP inbound needs one, comes from an environment variable or a file.
 */
import { type Static, Type } from 'typebox'
import { EgressSettings } from '../../sdk/define-connector.ts'
import { exactlyOneSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'

export const SapEccIdocConfig = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^/]+$',
      description: 'scheme://host:port of the ECC ICM; IDoc-XML is POSTed to `inboundPath` there',
    }),
    /** ECC's IDoc-XML HTTP inbound service (SICF /sap/bc/idoc_xml) */
    inboundPath: Type.String({ pattern: '^/[^?#]*$', default: '/sap/bc/idoc_xml' }),
    /**
     * Folder where ECC's file port writes the SYSTAT01 status IDocs for our IDocs (a share both
     * sides mount); read back before any retry. Relative to qualink.yaml. Must exist at start.
     */
    statusDir: Type.String({ minLength: 1 }),
    /**
     * How long to wait for a status IDoc after a lost answer (or a 51 without one) before deciding
     * the IDoc never arrived. Stays below the engine lease.
     */
    statusWaitMs: Type.Integer({ minimum: 0, maximum: 20_000, default: 2_000 }),
    /** logical systems in EDI_DC40 (SNDPRN / RCVPRN, partner type LS): the partner profile in WE20 */
    senderPartner: Type.String({ pattern: '^[A-Z0-9_]{1,10}$', default: 'QUALINK' }),
    receiverPartner: Type.String({ pattern: '^[A-Z0-9_]{1,10}$', default: 'ECCCLNT100' }),
    /** STGE_LOC of every item; the reserves bucket posts to `reservesStorageLocation` instead */
    storageLocation: Type.Optional(Type.String({ minLength: 1, maxLength: 4 })),
    reservesStorageLocation: Type.String({ minLength: 1, maxLength: 4, default: 'RSRV' }),
    /** ENTRY_QNT is DEC 13,3 in BAPI2017_GM_ITEM_CREATE: quantities travel with three decimals */
    quantityScale: Type.Integer({ minimum: 0, maximum: 6, default: 3 }),
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
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false },
)
export type SapEccIdocConfig = Static<typeof SapEccIdocConfig>
