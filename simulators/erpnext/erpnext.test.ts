import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from './server.ts'

let sim: ErpNextSim
const H = { authorization: 'token k:s', 'content-type': 'application/json' }

beforeEach(async () => {
  sim = await startErpNext({ port: 0, apiKey: 'k', apiSecret: 's' })
})
afterEach(() => sim.close())

type Data = { data: Record<string, unknown> & { name: string } }
const call = async (method: string, path: string, body?: unknown) =>
  fetch(`${sim.url}/api/resource/${path}`, {
    method,
    headers: H,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
const data = async (res: Response) => ((await res.json()) as Data).data

const receipt = (batch: string, qty: number) => ({
  purpose: 'Material Receipt',
  docstatus: 1,
  items: [{ item_code: 'RAW-100', qty, t_warehouse: 'Quality Inspection - SIM', batch_no: batch }],
})

describe('erpnext simulator', () => {
  it('requires token auth and answers in the Frappe error shape', async () => {
    const res = await fetch(`${sim.url}/api/resource/Batch`, { headers: { authorization: 'token k:wrong' } })
    expect(res.status).toBe(401)
    const body = (await res.json()) as { exc_type: string; _server_messages: string }
    expect(body.exc_type).toBe('AuthenticationError')
    expect((JSON.parse(JSON.parse(body._server_messages)[0]) as { message: string }).message).toContain(
      'API key',
    )
  })

  it('auto-evaluates a Quality Inspection from readings and submits it onto the Stock Entry row', async () => {
    await call('POST', 'Batch', { batch_id: 'B1', item: 'RAW-100' })
    const se = await data(await call('POST', 'Stock Entry', receipt('B1', 100)))
    const qi = await data(
      await call('POST', 'Quality Inspection', {
        inspection_type: 'Incoming',
        reference_type: 'Stock Entry',
        reference_name: se.name,
        item_code: 'RAW-100',
        batch_no: 'B1',
        sample_size: 5,
        readings: [
          {
            specification: 'Diameter',
            numeric: 1,
            min_value: 9.5,
            max_value: 10.5,
            reading_1: '10.1',
            reading_2: '10.7',
          },
          { specification: 'Length', numeric: 1, min_value: 99, max_value: 101, reading_1: '100' },
        ],
      }),
    )
    expect(qi.status).toBe('Rejected')
    expect((qi.readings as Array<{ status: string }>).map((r) => r.status)).toEqual(['Rejected', 'Accepted'])
    expect(qi.docstatus).toBe(0)
    const submitted = await data(await call('PUT', `Quality Inspection/${qi.name}`, { docstatus: 1 }))
    expect(submitted.docstatus).toBe(1)
    const after = await data(await call('GET', `Stock Entry/${se.name}`))
    expect((after.items as Array<{ quality_inspection: string }>)[0]!.quality_inspection).toBe(qi.name)
    const edit = await call('PUT', `Quality Inspection/${qi.name}`, { remarks: 'late edit' })
    expect(edit.status).toBe(417)
    const list = (await (
      await call(
        'GET',
        `Quality Inspection?filters=${encodeURIComponent('[["status","=","Rejected"]]')}&fields=${encodeURIComponent('["name","status"]')}`,
      )
    ).json()) as { data: unknown[] }
    expect(list.data).toEqual([{ name: qi.name, status: 'Rejected' }])
  })

  it('moves stock between warehouses on submit, conserves it, and refuses negative stock', async () => {
    await call('POST', 'Stock Entry', receipt('B2', 10))
    const move = (qty: number, to: string) =>
      call('POST', 'Stock Entry', {
        purpose: 'Material Transfer',
        docstatus: 1,
        items: [
          {
            item_code: 'RAW-100',
            qty,
            s_warehouse: 'Quality Inspection - SIM',
            t_warehouse: to,
            batch_no: 'B2',
          },
        ],
      })
    expect((await move(4, 'Quarantine - SIM')).status).toBe(200)
    const neg = await move(7, 'Stores - SIM')
    expect(neg.status).toBe(417)
    expect(((await neg.json()) as { exc_type: string }).exc_type).toBe('NegativeStockError')
    const st = sim.state
    expect(st.stock[0]!.buckets).toMatchObject({ qi: 6_000, blocked: 4_000 })
    expect(st.counts.conservationViolations).toEqual([])
    expect(st.counts.submittedStockEntriesByBatch.B2).toBe(2)
  })

  it('cancelling a submitted Stock Entry reverses it; a stale `modified` is refused', async () => {
    const se = await data(await call('POST', 'Stock Entry', receipt('B3', 5)))
    const stale = await call('PUT', `Stock Entry/${se.name}`, {
      docstatus: 2,
      modified: '2000-01-01 00:00:00.000000',
    })
    expect(((await stale.json()) as { exc_type: string }).exc_type).toBe('TimestampMismatchError')
    expect(
      (await call('PUT', `Stock Entry/${se.name}`, { docstatus: 2, modified: se.modified })).status,
    ).toBe(200)
    expect(sim.state.stock[0]!.buckets.qi).toBe(0)
  })

  it('commit-then-drop: the Stock Entry is submitted though the client saw no answer', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 1, match: { method: 'POST' } })
    await expect(call('POST', 'Stock Entry', { ...receipt('B4', 3), remarks: 'QLK:run-3' })).rejects.toThrow()
    const found = (await (
      await call('GET', `Stock Entry?filters=${encodeURIComponent('{"remarks":"QLK:run-3"}')}`)
    ).json()) as { data: unknown[] }
    expect(found.data).toHaveLength(1)
  })

  it('keeps Quality Inspection Templates and the Items naming them; filters on modified, sorts, lists without child tables', async () => {
    const T = 'Quality Inspection Template'
    const rows = [{ specification: 'Diameter', numeric: 1, min_value: 11.9, max_value: 12.1 }]
    const a = await data(
      await call('POST', T, {
        quality_inspection_template_name: 'QA',
        item_quality_inspection_parameter: rows,
      }),
    )
    const b = await data(
      await call('POST', T, {
        quality_inspection_template_name: 'QB',
        item_quality_inspection_parameter: rows,
      }),
    )
    expect(a.name).toBe('QA')
    expect(a.item_quality_inspection_parameter).toEqual([
      expect.objectContaining({
        specification: 'Diameter',
        idx: 1,
        parent: 'QA',
        parenttype: T,
        formula_based_criteria: 0,
      }),
    ])
    // a template needs parameters; an Item can only name a template that exists (a Link)
    const empty = await call('POST', T, {
      quality_inspection_template_name: 'QC',
      item_quality_inspection_parameter: [],
    })
    expect(((await empty.json()) as { exc_type: string }).exc_type).toBe('MandatoryError')
    const badLink = await call('POST', 'Item', { item_code: 'RAW-9', quality_inspection_template: 'nope' })
    expect(((await badLink.json()) as { exc_type: string }).exc_type).toBe('LinkValidationError')
    expect(
      (await data(await call('POST', 'Item', { item_code: 'RAW-1', quality_inspection_template: 'QA' })))
        .disabled,
    ).toBe(0)

    // saving QA again stamps a later `modified`: it now sorts after QB, and is the only one after b
    const a2 = await data(await call('PUT', `${T}/QA`, { item_quality_inspection_parameter: rows }))
    expect(String(a2.modified) > String(b.modified)).toBe(true)
    const q = (o: unknown) => encodeURIComponent(JSON.stringify(o))
    const list = async (query: string) =>
      ((await (await call('GET', `${T}?${query}`)).json()) as { data: Array<Record<string, unknown>> }).data
    expect((await list(`fields=${q(['name'])}&order_by=modified%20asc`)).map((r) => r.name)).toEqual([
      'QB',
      'QA',
    ])
    expect((await list(`filters=${q([['modified', '>', b.modified]])}`)).map((r) => r.name)).toEqual(['QA'])
    expect(
      (await list(`filters=${q([['modified', '>=', b.modified]])}&order_by=modified%20desc`)).map(
        (r) => r.name,
      ),
    ).toEqual(['QA', 'QB'])
    expect((await list(`fields=${q(['*'])}`))[0]).not.toHaveProperty('item_quality_inspection_parameter')
    const items = await call(
      'GET',
      `Item?filters=${q([['quality_inspection_template', '=', 'QA']])}&fields=${q(['item_code'])}`,
    )
    expect(((await items.json()) as { data: unknown[] }).data).toEqual([{ item_code: 'RAW-1' }])
  })
})
