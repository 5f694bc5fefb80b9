/**
 * The adoption reads (ports/adoption.ts) through a plant's identity mapping, so `qualink adopt`
 * builds its events with enterprise ids exactly as the running workflows see them. The mapping is
 * src/mapping/id-mapping.ts, the one the translators (ingress) and mapped.ts (egress) use:
 * - ERP and QMS codes read at cut-over → enterprise ids (inboundIds: the ingress rule);
 * - a QMS query for an enterprise id → the QMS's code (outboundIds: the egress rule).
 * A code without a mapping under `unknown: reject` is what ingress parks (QLK_XREF_MISSING):
 * here the document is marked `unsettled` with the missing mapping named, and adopt lists it for
 * a person instead of adopting it under a foreign code; adopting again after the mapping is added
 * adopts it. Under `unknown: pass` the code is taken unchanged, as ingress takes it.
 */
import { isQualinkError } from '../../contracts/errors.ts'
import { type IdMappingSettings, inboundIds, mapOptional, outboundIds } from '../../mapping/id-mapping.ts'
import type { XrefResolver } from '../../mapping/xref.ts'
import type { AdoptionErpPort, AdoptionQmsPort, QmsLotWithReference } from './adoption.ts'
import type { QmsInspectionLotView } from './qms.ts'

/** Runs `mapped`; a missing mapping becomes the `unsettled` reason instead of an error. */
async function orUnsettled<T extends object>(
  original: T,
  system: string,
  mapped: () => Promise<T>,
): Promise<T & { readonly unsettled?: string }> {
  try {
    return await mapped()
  } catch (e) {
    if (!isQualinkError(e) || e.code !== 'QLK_XREF_MISSING') throw e
    const why = e.errors[0]?.message ?? e.message
    return {
      ...original,
      unsettled: `${why} in ${system}'s identity mapping; add it (qualink xref import) and adopt again`,
    }
  }
}

/** The plant's ERP adoption reads with materials, batches and suppliers as enterprise ids. */
export function mappedAdoptionErpPort(
  port: AdoptionErpPort,
  xref: XrefResolver,
  settings: IdMappingSettings | undefined,
  plant: string,
): AdoptionErpPort {
  if (!settings || settings.entities.length === 0) return port
  const map = inboundIds(xref, settings, plant)
  return {
    // `plant` is the ERP's code in the query and in each row (adopt puts the Qualink plant on events)
    listOpenInspectionLots: async (opts) =>
      Promise.all(
        (await port.listOpenInspectionLots(opts)).map((l, i) =>
          l.unsettled
            ? l
            : orUnsettled(l, settings.system, async () => {
                const supplier = await mapOptional(map, 'supplier', l.supplier, `/lots/${i}/supplier`)
                return {
                  ...l,
                  material: await map('material', l.material, `/lots/${i}/material`),
                  lot: await map('lot', l.lot, `/lots/${i}/lot`),
                  ...(supplier === undefined ? {} : { supplier }),
                }
              }),
        ),
      ),
    listHeldProductionOrders: async (opts) =>
      Promise.all(
        (await port.listHeldProductionOrders(opts)).map((o, i) =>
          orUnsettled(o, settings.system, async () => ({
            ...o,
            material: await map('material', o.material, `/orders/${i}/material`),
            lot: o.lot === '' ? '' : await map('lot', o.lot, `/orders/${i}/lot`),
          })),
        ),
      ),
  }
}

/**
 * The plant's QMS adoption reads: queried with the QMS's codes, answering with enterprise ids (and
 * the Qualink plant when the QMS's plant codes are mapped). A query for an id the QMS has no code
 * for fails with QLK_XREF_MISSING before anything is sent, as egress does; adopt lists that item.
 */
export function mappedAdoptionQmsPort(
  port: AdoptionQmsPort,
  xref: XrefResolver,
  settings: IdMappingSettings | undefined,
  plant: string,
): AdoptionQmsPort {
  if (!settings || settings.entities.length === 0) return port
  const back = inboundIds(xref, settings, plant)
  const out = outboundIds({ current: xref }, settings, plant)
  const lotBack = async <L extends QmsInspectionLotView>(v: L, at: string): Promise<L> => ({
    ...v,
    plant: await back('plant', v.plant, `${at}/plant`),
    material: await back('material', v.material, `${at}/material`),
    lot: await back('lot', v.lot, `${at}/lot`),
  })
  return {
    findInspectionLots: async (query) => {
      const material = await mapOptional(out, 'material', query.material, '/material')
      const found: QmsLotWithReference[] = await port.findInspectionLots({
        lot: await out('lot', query.lot, '/lot'),
        ...(material === undefined ? {} : { material }),
      })
      return Promise.all(found.map((l, i) => lotBack(l, `/inspectionLots/${i}`)))
    },
    getInspectionLot: async (id) => {
      const v = await port.getInspectionLot(id)
      return v && lotBack(v, '/inspectionLot')
    },
    listOpenNonconformances: async () =>
      Promise.all(
        (await port.listOpenNonconformances()).map((n, i) => {
          const lot = n.lot
          if (lot === undefined) return n
          return orUnsettled(n, settings.system, async () => ({
            ...n,
            lot: await back('lot', lot, `/nonconformances/${i}/lot`),
          }))
        }),
      ),
  }
}
