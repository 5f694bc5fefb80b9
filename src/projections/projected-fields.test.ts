import { describe, expect, it } from 'vitest'
import { EVENT_EXAMPLES } from '../contracts/events/examples.ts'
import { PROJECTED_IDENTIFIERS, projectedIdentifierAt } from './projected-fields.ts'

/** Every value a pointer (with `*`) reaches in `root`. */
function at(root: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return [root]
  if (typeof root !== 'object' || root === null) return []
  const [head, ...rest] = path as [string, ...string[]]
  const c = root as Record<string, unknown>
  return (head === '*' ? Object.keys(c) : [head])
    .filter((k) => Object.hasOwn(c, k))
    .flatMap((k) => at(c[k], rest))
}

describe('projected identifiers', () => {
  it('names fields that exist in each type’s example event (the list follows the schemas)', () => {
    for (const [type, pointers] of Object.entries(PROJECTED_IDENTIFIERS)) {
      const example = EVENT_EXAMPLES[type]
      expect(example, type).toBeDefined()
      for (const p of pointers)
        expect(at({ data: example }, p.split('/').slice(1)), `${type} ${p}`).not.toEqual([])
    }
  })

  it('finds a marked pointer that reaches an identifier as itself, a parent or a child', () => {
    expect(projectedIdentifierAt('erp.delivery.shipped.v1', '/data/customer')).toBe('/data/customer')
    expect(projectedIdentifierAt('erp.goods_receipt.posted.v1', '/data/lot')).toBe('/data/lot/id')
    expect(projectedIdentifierAt('erp.delivery.shipped.v1', '/data/lines/0/lot')).toBe('/data/lines/*/lot')
    expect(projectedIdentifierAt('erp.goods_receipt.posted.v1', '/data/supplierBatch')).toBeUndefined()
    expect(projectedIdentifierAt('qms.usage_decision.made.v1', '/data/audit/operator')).toBeUndefined()
    expect(projectedIdentifierAt('qms.usage_decision.made.v1', '/data/audit')).toBe('/data/audit/timestamp')
    expect(projectedIdentifierAt('crm.complaint.opened.v1', '/data/complaint/customer')).toBeUndefined()
  })
})
