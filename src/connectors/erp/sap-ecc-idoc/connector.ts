/**
 * erp/sap-ecc-idoc: the ErpPort for a SAP ECC plant that has no inspection-lot OData service and
 * takes goods movements as MBGMCR03 IDoc-XML over HTTP (SICF /sap/bc/idoc_xml), answering with
 * SYSTAT01 status IDocs through a file port. Tested against simulators/erp-ecc (docs/simulators.md),
 * which like ECC does not deduplicate inbound IDocs.
 *
 * Stock dispositions and transfers are goods movements, one IDoc (one material document) per
 * bucket, made idempotent by read-back of status IDocs (idoc-sender.ts). What ECC cannot do over
 * this interface refuses with QLK_VALIDATION naming the operation: the usage decision itself (no
 * inspection-lot service), reading stock per stock type, production-order hold and delivery
 * block (neither has an inbound IDoc in the simulator).
 */
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import type { ErpPort } from '../../../workflows/ports/erp.ts'
import { systemClock } from '../../sdk/clock.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import { ConnectorConfigError, connectorSecret } from '../../sdk/secrets.ts'
import { SapEccIdocConfig } from './config.ts'
import { IdocSender } from './idoc-sender.ts'
import {
  type GoodsMovement,
  postInTurn,
  senderDocnum,
  transferMovementFor,
  unsupported,
  usageDecisionMovements,
  yyyymmdd,
} from './idocs.ts'
import { StatusFolder } from './status-folder.ts'

const KIND = 'erp/sap-ecc-idoc'

export const sapEccIdocConnector = defineConnector({
  kind: KIND,
  description:
    'SAP ECC over IDoc-XML: UD stock splits and transfers as MBGMCR goods movements, SYSTAT01 status back',
  configSchema: SapEccIdocConfig,
  actions: [
    'recordUsageDecision',
    'postStockDisposition',
    'readLotStock',
    'transferStock',
    'setProductionOrderHold',
    'setDeliveryBlock',
  ],
  targets: (c) => [c.baseUrl],
  egressSettings: (c) => c.egress,
  create(config, ctx): ErpPort {
    const who = { kind: KIND, name: ctx.name }
    const statusDir = path.resolve(ctx.environment.baseDir, config.statusDir)
    if (!existsSync(statusDir) || !statSync(statusDir).isDirectory())
      throw new ConnectorConfigError(KIND, ctx.name, [
        { path: '/statusDir', message: `${statusDir} is not a directory (ECC's status file port)` },
      ])
    const password = config.auth
      ? connectorSecret(config.auth, 'password', '/auth', ctx.environment, who)
      : undefined
    const authorization = config.auth
      ? `Basic ${Buffer.from(`${config.auth.username}:${password}`).toString('base64')}`
      : undefined
    const clock = ctx.clock ?? systemClock
    const sender = new IdocSender(ctx.egress, config, new StatusFolder(statusDir), clock, authorization)
    const scale = config.quantityScale
    const movement = (reference: string, code: string, item: GoodsMovement['item']): GoodsMovement => ({
      docnum: senderDocnum(reference),
      code,
      headerText: reference,
      postingDate: yyyymmdd(clock.now()),
      item,
    })

    return {
      postStockDisposition: (input) =>
        postInTurn(usageDecisionMovements(input, scale, config), (m) =>
          sender.post(
            movement(m.reference, m.code, {
              material: input.lot.material,
              plant: input.lot.plant,
              batch: input.lot.lot,
              ...m.item,
            }),
            m.what,
            input.traceparent,
          ),
        ),
      transferStock(input) {
        const m = transferMovementFor(input, scale, config.storageLocation)
        return sender.post(
          movement(m.reference, m.code, {
            material: input.lot.material,
            plant: input.lot.plant,
            batch: input.lot.lot,
            ...m.item,
          }),
          m.what,
          input.traceparent,
        )
      },
      recordUsageDecision: async () =>
        unsupported(
          'recordUsageDecision',
          'ECC has no inspection-lot service here; the usage decision is made in QM (QA11) or the QMS',
        ),
      readLotStock: async () =>
        unsupported(
          'readLotStock',
          'no stock-per-stock-type read over IDoc; use MB52 or an ERP that offers one',
        ),
      setProductionOrderHold: async () =>
        unsupported('setProductionOrderHold', 'the ECC simulator takes no production-order IDoc'),
      setDeliveryBlock: async () =>
        unsupported('setDeliveryBlock', 'the ECC simulator takes no delivery IDoc'),
    }
  },
})
