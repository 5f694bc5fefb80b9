import { describe, expect, it } from 'vitest'
import { mostSpecific } from './specification.ts'

const specs = [
  { id: 'M', version: 3 },
  { id: 'M-SUP7', version: 1, supplier: 'SUP-7' },
  { id: 'M-SUP9', version: 5, supplier: 'SUP-9' },
  { id: 'M-OP20', version: 2, route: '0020' },
  { id: 'M-SUP7-OP20', version: 4, supplier: 'SUP-7', route: '0020' },
]

describe('the specification a lot is inspected against', () => {
  it('takes material and supplier over material and route over the material alone', () => {
    expect(mostSpecific(specs, { supplier: 'SUP-7' })?.id).toBe('M-SUP7')
    expect(mostSpecific(specs, { supplier: 'SUP-7', route: '0020' })?.id).toBe('M-SUP7-OP20')
    expect(mostSpecific(specs, { supplier: 'SUP-1', route: '0020' })?.id).toBe('M-OP20')
    expect(mostSpecific(specs, { supplier: 'SUP-1' })?.id).toBe('M')
    expect(mostSpecific(specs, {})?.id).toBe('M')
  })

  it('never takes one limited to another supplier or route, and has none when nothing fits', () => {
    const limited = specs.filter((s) => s.supplier || s.route)
    expect(mostSpecific(limited, { supplier: 'SUP-1', route: '0010' })).toBeNull()
    expect(mostSpecific([], { supplier: 'SUP-7' })).toBeNull()
  })

  it('picks the same one of two plans for one scope on every read, whatever their order', () => {
    const two = [
      { id: 'QP2', version: 1 },
      { id: 'QP1', version: 9 },
    ]
    expect(mostSpecific(two, {})?.id).toBe('QP1')
    expect(mostSpecific([...two].reverse(), {})?.id).toBe('QP1')
  })
})
