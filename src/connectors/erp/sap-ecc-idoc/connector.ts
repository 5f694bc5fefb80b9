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
import type { ErpPort, StockPostingResult } from '../../../workflows/ports/erp.ts'
import { systemClock } from '../../sdk/clock.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import { referenceFor } from '../../sdk/reference.ts'
import { ConnectorConfigError, connectorSecret } from '../../sdk/secrets.ts'
import { dispositionGroups, toSap } from '../sap-s4/mapping.ts'
import { SapEccIdocConfig } from './config.ts'
import { IdocSender } from './idoc-sender.ts'
import {
  type GoodsMovement,
  senderDocnum,
  transferItem,
  UD_MOVEMENT,
  unsupported,
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
      async postStockDisposition(input) {
        const documents: string[] = []
        let alreadyDone = true
        for (const g of dispositionGroups(input, scale)) {
          const [movementType, code] = UD_MOVEMENT[g.bucket]
          const reference = referenceFor(
            `${input.idempotencyKey}|${g.bucket}|${g.targetMaterial}|${g.targetLot}`,
          )
          const r: StockPostingResult = await sender.post(
            movement(reference, code, {
              material: input.lot.material,
              plant: input.lot.plant,
              batch: input.lot.lot,
              movementType,
              stockType: 'X',
              quantity: toSap({ units: g.units, scale, uom: g.uom }, scale, `${g.bucket} quantity`),
              uom: g.uom,
              storageLocation:
                g.bucket === 'reserves' ? config.reservesStorageLocation : config.storageLocation,
              ...(g.bucket === 'regrade'
                ? {
                    moveMaterial: g.targetMaterial || input.lot.material,
                    moveBatch: g.targetLot || input.lot.lot,
                  }
                : {}),
            }),
            `post ${g.bucket} of ${input.lot.material}/${input.lot.lot} (inspection lot ${input.inspectionLot})`,
            input.traceparent,
          )
          documents.push(...r.documents)
          alreadyDone &&= r.alreadyDone
        }
        return { documents, alreadyDone }
      },
      transferStock(input) {
        const m = transferItem(input.from, input.to)
        return sender.post(
          movement(referenceFor(input.idempotencyKey), m.code, {
            material: input.lot.material,
            plant: input.lot.plant,
            batch: input.lot.lot,
            movementType: m.movementType,
            stockType: m.stockType,
            quantity: toSap(input.quantity, scale, 'quantity'),
            uom: input.quantity.uom,
            storageLocation: config.storageLocation,
          }),
          `transfer ${input.from}→${input.to} of ${input.lot.material}/${input.lot.lot}`,
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
