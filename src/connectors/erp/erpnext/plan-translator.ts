/**
 * An ERPNext Quality Inspection Template version with the Items naming it (as read by
 * plan-feed.ts) → one `md.inspection_plan.upserted.v1` per Item. Mapping (docs/connectors.md):
 *
 * - one specification per enabled Item whose `quality_inspection_template` is the template; its id
 *   `<template>:<item_code>` (the template name is refused when it holds a `/`: the id is a path
 *   segment of the QMS API). ERPNext's model has no route and no supplier on a template (an Item
 *   has one template for every inspection type), so neither is set: the spec applies to the
 *   material's every operation and supplier;
 * - `version` is derived from the template's `modified` (plan-feed.ts templateVersion);
 * - each Item Quality Inspection Parameter row is a characteristic identified by `specification`
 *   (a Link to Quality Inspection Parameter): `numeric` 1 → quantitative with `min_value` /
 *   `max_value` as lower / upper limit; `numeric` 0 → qualitative, its expected `value` written
 *   into the name; ERPNext carries no unit and no sample size on a template (the sample size is
 *   the Quality Inspection's), so the characteristic is inspected on every unit of the lot's sample
 *   (`full`); a `formula_based_criteria` row is refused (Qualink does not evaluate
 *   `acceptance_formula`).
 *
 * ERPNext defaults an unset Float to 0, so a numeric parameter with `min_value` 0 and `max_value` 0
 * (or both null) was given no limits: refused, as is one with `min_value` above `max_value` or a limit that is not a
 * number, and a template no Item names. Refused as a whole with QLK_VALIDATION naming the field:
 * nothing of the version becomes an event, and its raw delivery stays, dead, to be replayed.
 */
import type { CloudEvent } from '../../../contracts/envelope.ts'
import { type FieldProblem, QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import type { Characteristic } from '../../../model/inspection.ts'
import { parseJsonBody } from '../../sdk/json-body.ts'
import { inspectionPlanUpserted } from '../plan-event.ts'
import { templateVersion } from './plan-feed.ts'

type Row = Record<string, unknown>
const DECIMAL = /^[+-]?\d{1,15}(\.\d{1,9})?$/

function refuse(path: string, message: string, what: string): never {
  const problem: FieldProblem = { path, message }
  throw new QualinkError('QLK_VALIDATION', `Quality Inspection Template ${what}: ${path} ${message}`, [
    problem,
  ])
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : ''
const flag = (v: unknown): boolean => v === 1 || v === true || v === '1'

/** A Float limit as a canonical decimal (null/'' is unset; ERPNext sends numbers, text is read too). */
function limit(p: Row, field: string, at: string, what: string): string | undefined {
  const v = p[field]
  if (v === null || v === undefined || v === '') return undefined
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : ''
  if (!DECIMAL.test(s)) refuse(`${at}/${field}`, `'${String(v)}' is not a number`, what)
  return s.replace(/^\+/, '')
}

function parameter(p: Row, at: string, what: string): Characteristic {
  const id = text(p.specification)
  if (id === '') refuse(`${at}/specification`, 'required: the Quality Inspection Parameter', what)
  if (flag(p.formula_based_criteria))
    refuse(`${at}/formula_based_criteria`, 'formula-based acceptance is not translated; use limits', what)
  const base = { id, sampleRule: { kind: 'full' } as const, required: true }
  if (!flag(p.numeric)) {
    const value = text(p.value)
    return { ...base, name: value === '' ? id : `${id}: ${value}`.slice(0, 200), quantitative: false }
  }
  const lowerLimit = limit(p, 'min_value', at, what)
  const upperLimit = limit(p, 'max_value', at, what)
  // an unset Float is 0 in ERPNext: 0 … 0 (or nothing) is a numeric parameter nobody gave limits
  if (Number(lowerLimit ?? 0) === 0 && Number(upperLimit ?? 0) === 0)
    refuse(`${at}/max_value`, 'a numeric parameter needs a min_value or a max_value (not 0 … 0)', what)
  if (lowerLimit !== undefined && upperLimit !== undefined && Number(lowerLimit) > Number(upperLimit))
    refuse(`${at}/min_value`, `${lowerLimit} is above max_value ${upperLimit}`, what)
  return {
    ...base,
    name: id,
    quantitative: true,
    ...(lowerLimit !== undefined ? { lowerLimit } : {}),
    ...(upperLimit !== undefined ? { upperLimit } : {}),
  }
}

/**
 * erpnext template version → `md.inspection_plan.upserted.v1` per Item. ERPNext has no plant on a
 * template or an Item: the specification is the feed's plant's. Items go through the plant's
 * identity mapping for this source when one is configured.
 */
export function erpNextInspectionPlanTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const t = parseJsonBody<Row>(raw.body, 'ERPNext Quality Inspection Template')
      const name = text(t.name)
      const what = name || '?'
      if (name === '') refuse('/name', 'required: the template name', what)
      if (name.includes('/')) refuse('/name', `'${name}' holds a '/', which a specification id cannot`, what)
      const version = templateVersion(t.modified)
      if (version === null)
        refuse(
          '/modified',
          `'${String(t.modified)}' is not a Frappe timestamp (YYYY-MM-DD HH:MM:SS.ffffff)`,
          what,
        )
      const params = Array.isArray(t.item_quality_inspection_parameter)
        ? (t.item_quality_inspection_parameter as Row[])
        : []
      if (params.length === 0)
        refuse('/item_quality_inspection_parameter', 'required: at least one parameter', what)
      const seen = new Set<string>()
      const characteristics = params.map((p, i) => {
        const at = `/item_quality_inspection_parameter/${i}`
        const c = parameter(p, at, what)
        if (seen.has(c.id)) refuse(`${at}/specification`, `${c.id} appears twice`, what)
        seen.add(c.id)
        return c
      })
      const items = Array.isArray(t.items) ? (t.items as Row[]) : []
      if (items.length === 0) refuse('/items', 'no enabled Item names this template', what)
      const map = inboundIds(xref, ids, raw.plant)
      const time = new Date(Math.floor(version / 1000)).toISOString()
      const events: CloudEvent[] = []
      for (const [i, item] of items.entries()) {
        const code = text(item.item_code)
        if (code === '') refuse(`/items/${i}/item_code`, 'required: the Item', what)
        const material = await map('material', code, `/items/${i}/item_code`)
        const id = `${name}:${material}`
        events.push(
          inspectionPlanUpserted({ id, plant: raw.plant, material, version, characteristics }, source, time),
        )
      }
      if (new Set(events.map((e) => e.subject)).size !== events.length)
        refuse('/items', 'an Item is listed twice', what)
      return events
    },
  }
}
