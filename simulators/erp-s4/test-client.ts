/** A minimal OData client for the simulator's own tests (the real one is the connector's). */
export interface S4TestClient {
  token(): Promise<string>
  get(path: string, headers?: Record<string, string>): Promise<Response>
  send(method: string, path: string, body: unknown, headers?: Record<string, string>): Promise<Response>
  json<T = Record<string, unknown>>(res: Response): Promise<T>
}

export function s4Client(baseUrl: string): S4TestClient {
  let csrf: string | undefined
  const client: S4TestClient = {
    async token() {
      const res = await fetch(`${baseUrl}/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/`, {
        headers: { 'x-csrf-token': 'fetch' },
      })
      await res.arrayBuffer()
      csrf = res.headers.get('x-csrf-token') ?? undefined
      if (!csrf) throw new Error('no csrf token issued')
      return csrf
    },
    get: (path, headers = {}) =>
      fetch(`${baseUrl}${path}`, { headers: { accept: 'application/json', ...headers } }),
    async send(method, path, body, headers = {}) {
      const token = csrf ?? (await client.token())
      return fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': token, ...headers },
        body: JSON.stringify(body),
      })
    },
    json: async <T>(res: Response) => (await res.json()) as T,
  }
  return client
}

export const MATDOC = '/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV'
export const LOTS = '/sap/opu/odata/sap/API_INSPECTIONLOT_SRV'

export function goodsReceipt(batch: string, qty: string, headerText = '', material = 'RAW-100'): unknown {
  return {
    GoodsMovementCode: '01',
    MaterialDocumentHeaderText: headerText,
    to_MaterialDocumentItem: [
      {
        Material: material,
        Plant: '1000',
        StorageLocation: '0001',
        Batch: batch,
        GoodsMovementType: '101',
        PurchaseOrder: '4500000017',
        PurchaseOrderItem: '10',
        Supplier: 'SUP-7',
        QuantityInEntryUnit: qty,
        EntryUnit: 'KG',
      },
    ],
  }
}
