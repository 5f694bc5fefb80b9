/**
 * SAP ECC-style ERP simulator: no inspection-lot OData; IDoc-XML in over HTTP
 * (POST /sap/bc/idoc_xml, as ECC's IDoc-XML HTTP inbound) or dropped into a watched folder;
 * SYSTAT01 status IDocs (53 posted / 51 error) out to a callback URL and/or an outbound folder.
 * Stock runs on the same material-document core and ledger as erp-s4.
 * A SOAP face (soap.ts) offers BAPI-style function modules over the same model: WSDL at
 * GET /sap/bc/soap/wsdl (or wsdl11) ?services=…, calls at POST /sap/bc/soap/rfc[/sap/<FM>].
 */
import { type FSWatcher, watch } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { openLotForReceipt } from '../erp-s4/inspection-lots.ts'
import type { PostingHooks } from '../erp-s4/material-documents.ts'
import { S4Model } from '../erp-s4/model.ts'
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { HttpError, type HttpSim, Router, startHttpSim } from '../shared/http.ts'
import { WebhookSender } from '../shared/webhooks.ts'
import { type BatchMaster, IdocProcessor, type IdocResult, statusIdoc } from './idocs.ts'
import { SoapFace, type SoapFaceOptions } from './soap.ts'
import { parseXml, XmlError } from './xml.ts'

export interface ErpEccOptions {
  readonly port?: number
  readonly host?: string
  /** Status IDocs are POSTed here (application/xml). */
  readonly statusCallbackUrl?: string
  /** Watched for `*.xml` IDoc files; processed files move to `processed/`, unparsable ones to `failed/`. */
  readonly inboundDir?: string
  /** Status IDocs are written here as `STATUS_<docnum>.xml` (temp name, then rename). */
  readonly outboundDir?: string
  readonly materials?: Record<string, { inspectionRelevant?: boolean; baseUnit?: string }>
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
  /** which function modules the SOAP face offers (default all) and the reserves storage location */
  readonly soap?: SoapFaceOptions
}

export interface ErpEccState {
  readonly idocs: IdocResult[]
  readonly batches: BatchMaster[]
  readonly materialDocuments: Array<{
    number: string
    headerText: string
    items: Array<{ movementType: string; lot: string; from: string; to: string; quantity: number }>
  }>
  readonly stock: ReturnType<S4Model['ledger']['snapshot']>
  /** lots opened by receipts of inspection-relevant materials, with their usage decision (SOAP face) */
  readonly inspectionLots: Array<{
    number: string
    lot: string
    quantity: number
    udCode: string
    text: string
  }>
  readonly counts: {
    documentsByLotAndBucket: ReturnType<S4Model['documentsByLotAndBucket']>
    conservationViolations: string[]
  }
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface ErpEccSim {
  readonly url: string
  readonly state: ErpEccState
  readonly faults: Faults
  readonly statusSender: WebhookSender
  /** Processes every complete `*.xml` in the inbound folder now (the watcher calls this too). */
  scanInbound(): Promise<IdocResult[]>
  close(): Promise<void>
}

export async function startErpEcc(opts: ErpEccOptions = {}): Promise<ErpEccSim> {
  const clock = opts.clock ?? Date.now
  const materials = new Map(
    Object.entries(opts.materials ?? {}).map(([m, s]) => [
      m,
      { inspectionRelevant: s.inspectionRelevant ?? true, baseUnit: s.baseUnit ?? 'PC' },
    ]),
  )
  const model = new S4Model(materials, clock)
  const faults = new Faults(opts.faults)
  const statusSender = new WebhookSender({
    target: opts.statusCallbackUrl ? { url: opts.statusCallbackUrl } : undefined,
    faults,
    signatureHeader: 'x-idoc-signature',
    deliveryIdHeader: 'x-idoc-delivery-id',
    eventTypeHeader: 'x-idoc-message-type',
  })
  const hooks: PostingHooks = {
    openInspectionLot: (doc, item) => openLotForReceipt(model, doc, item),
    goodsReceiptPosted: () => {},
  }
  const processor = new IdocProcessor(model, materials, hooks)

  const report = async (results: IdocResult[]) => {
    for (const r of results) {
      const xml = statusIdoc(r, new Date(clock()))
      statusSender.send('STATUS', xml, 'application/xml')
      if (opts.outboundDir) {
        const name = `STATUS_${r.eccDocnum}.xml`
        await writeFile(path.join(opts.outboundDir, `.${name}.part`), xml)
        await rename(path.join(opts.outboundDir, `.${name}.part`), path.join(opts.outboundDir, name))
      }
    }
  }

  for (const d of [opts.inboundDir, opts.outboundDir]) if (d) await mkdir(d, { recursive: true })
  if (opts.inboundDir) {
    await mkdir(path.join(opts.inboundDir, 'processed'), { recursive: true })
    await mkdir(path.join(opts.inboundDir, 'failed'), { recursive: true })
  }

  // Scans are chained so the watcher and an explicit scan never pick up the same file twice.
  let scanning: Promise<IdocResult[]> = Promise.resolve([])
  const scanOnce = async (): Promise<IdocResult[]> => {
    const dir = opts.inboundDir
    if (!dir) return []
    const out: IdocResult[] = []
    const names = (await readdir(dir)).filter((n) => n.endsWith('.xml') && !n.startsWith('.')).sort()
    for (const name of names) {
      const file = path.join(dir, name)
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch {
        continue
      }
      try {
        const results = processor.process(parseXml(text))
        await rename(file, path.join(dir, 'processed', name))
        await report(results)
        out.push(...results)
      } catch {
        await rename(file, path.join(dir, 'failed', name))
      }
    }
    return out
  }
  const scanInbound = () => {
    scanning = scanning.then(scanOnce, scanOnce)
    return scanning
  }
  let watcher: FSWatcher | undefined
  if (opts.inboundDir) {
    watcher = watch(opts.inboundDir, (_event, name) => {
      if (name?.endsWith('.xml') && !name.startsWith('.')) void scanInbound()
    })
    void scanInbound()
  }

  const soap = new SoapFace(model, hooks, opts.soap)
  const router = new Router().on('POST', /^\/sap\/bc\/idoc_xml$/, async (req) => {
    let results: IdocResult[]
    try {
      results = processor.process(parseXml(req.text()))
    } catch (err) {
      if (err instanceof XmlError || err instanceof Error)
        throw new HttpError(400, `IDoc-XML rejected: ${err.message}`)
      throw err
    }
    await report(results)
    return {
      status: 200,
      body: results.map((r) => `IDoc ${r.eccDocnum} created (status ${r.status})`).join('\n'),
    }
  })

  router
    .on('GET', /^\/sap\/bc\/soap\/wsdl(?:11)?$/, (req) => soap.wsdl(req, http.url))
    .on('POST', /^\/sap\/bc\/soap\/rfc(?:\/sap\/([A-Za-z0-9_]+))?$/, (req) =>
      soap.call(req, req.params[0] ?? ''),
    )

  const state = (): ErpEccState => ({
    idocs: [...processor.results],
    batches: [...processor.batches.values()],
    materialDocuments: model.documents.map((d) => ({
      number: d.MaterialDocument,
      headerText: d.MaterialDocumentHeaderText,
      items: d.items.map((it) => ({
        movementType: it.GoodsMovementType,
        lot: `${it.key.material}|${it.key.plant}|${it.key.batch}`,
        from: it.from,
        to: it.to,
        quantity: it.quantity,
      })),
    })),
    stock: model.ledger.snapshot(),
    inspectionLots: [...model.lots.values()].map((l) => ({
      number: l.InspectionLot,
      lot: `${l.Material}|${l.Plant}|${l.Batch}`,
      quantity: l.quantity,
      udCode: l.usageDecision?.InspectionLotUsageDecisionCode ?? '',
      text: l.InspectionLotText,
    })),
    counts: {
      documentsByLotAndBucket: model.documentsByLotAndBucket(),
      conservationViolations: model.ledger.violations(),
    },
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  })
  const http = await startHttpSim({ host: opts.host, port: opts.port, router, faults, state })
  return {
    url: http.url,
    get state() {
      return state()
    },
    faults,
    statusSender,
    scanInbound,
    async close() {
      watcher?.close()
      await scanning.catch(() => [])
      await statusSender.stop()
      await http.close()
    },
  }
}
