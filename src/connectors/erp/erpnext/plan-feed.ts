/**
 * Inspection specifications read from ERPNext: the DocType Quality Inspection Template (child table
 * `item_quality_inspection_parameter`, DocType Item Quality Inspection Parameter) and the Items
 * that name it in `quality_inspection_template` (frappe/erpnext
 * erpnext/stock/doctype/quality_inspection_template/quality_inspection_template.json). Frappe REST
 * (frappeframework.com/docs/user/en/api/rest): `GET /api/resource/<DocType>?filters=…&fields=…
 * &order_by=…&limit_page_length=…` for the list, which never carries child tables, then
 * `GET /api/resource/<DocType>/<name>` for each template with its parameters.
 *
 * Polled on `modified` (Frappe stamps it, to the microsecond, on every save): the cursor is the
 * `modified` of the last template read and the next poll reads `>=` it, so templates saved in the
 * same instant are not skipped (the ones already read are duplicates of their delivery id).
 * ERPNext keeps no version counter on a template, so the version is derived from `modified`:
 * microseconds since 1970 of that timestamp read as UTC (templateVersion). Every save is a new
 * version, and a later save a higher one, as long as the site's time zone has no clock going back
 * (a DST fall-back hour can give a save a lower version than the one before it).
 * One delivery per template version, id `<template>/<version>`: a re-read stores nothing new.
 *
 * What is read with the template is the set of enabled Items naming it at that moment. Assigning
 * the template to another Item changes the Item, not the template: it reaches Qualink with the
 * template's next save (docs/connectors.md says so to the plant's engineer).
 */
import type { EgressClient } from '../../sdk/egress.ts'
import type { FeedItem } from '../sap-s4/gr-feed.ts'

export const TEMPLATE_DOCTYPE = 'Quality Inspection Template'
const q = (v: unknown) => encodeURIComponent(JSON.stringify(v))
const EPOCH = '1970-01-01 00:00:00'
const FRAPPE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/

/** Frappe `modified` ("2025-03-01 10:00:00.123456") → microseconds since 1970 read as UTC; null when it is none. */
export function templateVersion(modified: unknown): number | null {
  const m = typeof modified === 'string' ? FRAPPE_TIME.exec(modified) : null
  if (!m) return null
  const ms = Date.parse(`${m[1]}T${m[2]}Z`)
  if (!Number.isFinite(ms) || ms <= 0) return null
  return ms * 1000 + Number((m[3] ?? '').padEnd(6, '0'))
}

export interface FrappeReader {
  readonly egress: EgressClient
  readonly baseUrl: string
  readonly auth: string
}

async function get(r: FrappeReader, path: string, context: string): Promise<unknown> {
  const res = await r.egress.request({
    method: 'GET',
    url: `${r.baseUrl}${path}`,
    headers: { authorization: r.auth },
    context,
  })
  return res.json<{ data?: unknown }>().data
}

export async function readTemplateFeed(
  r: FrappeReader,
  after: string | null,
  top: number,
): Promise<FeedItem[]> {
  if (after !== null && !FRAPPE_TIME.test(after))
    throw new RangeError(`plan feed cursor '${after}' is not a Frappe modified timestamp`)
  const dt = encodeURIComponent(TEMPLATE_DOCTYPE)
  const filters = after === null ? [] : [['modified', '>=', after]]
  const list = await get(
    r,
    `/api/resource/${dt}?filters=${q(filters)}&fields=${q(['name', 'modified'])}&order_by=${encodeURIComponent('modified asc')}&limit_page_length=${top}`,
    `read Quality Inspection Templates modified since ${after ?? 'the start'}`,
  )
  const out: FeedItem[] = []
  for (const row of Array.isArray(list) ? (list as Array<Record<string, unknown>>) : []) {
    const name = String(row.name)
    const template = (await get(
      r,
      `/api/resource/${dt}/${encodeURIComponent(name)}`,
      `read Quality Inspection Template ${name}`,
    )) as Record<string, unknown>
    const items = await get(
      r,
      `/api/resource/Item?filters=${q([
        ['quality_inspection_template', '=', name],
        ['disabled', '=', 0],
      ])}&fields=${q(['item_code', 'inspection_required_before_purchase'])}&order_by=${encodeURIComponent('item_code asc')}&limit_page_length=0`,
      `read the Items inspected by template ${name}`,
    )
    const modified = String(template.modified ?? row.modified)
    const version = templateVersion(modified)
    out.push({
      // an entry without a readable `modified` keeps the cursor where it was (the translator refuses it)
      id: `${name}/${version ?? modified}`,
      cursor: version === null ? (after ?? EPOCH) : modified,
      body: Buffer.from(JSON.stringify({ ...template, items: Array.isArray(items) ? items : [] })),
      headers: { 'content-type': 'application/json', 'feed-entity': TEMPLATE_DOCTYPE },
    })
  }
  return out
}
