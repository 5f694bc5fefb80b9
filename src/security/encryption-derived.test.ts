import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { FieldCipher, isEncryptedValue } from './encryption.ts'
import { encryptDerived, redactDerived, sensitiveValuesOf } from './encryption-derived.ts'

const cipher = new FieldCipher({
  keys: new Map([['k1', randomBytes(32)]]),
  activeKey: 'k1',
  fields: { 'x.thing.happened.v1': ['/data/contact', '/data/code', '/data/limit', '/data/lines/*/note'] },
})
const event = {
  type: 'x.thing.happened.v1',
  data: {
    contact: { name: 'Jane Roe', phone: '+49 711 555' },
    code: 'AB',
    limit: 42,
    lines: [{ note: 'dented on arrival' }, { note: null }],
    id: 'T-1',
  },
}

describe('copies of sensitive values', () => {
  const values = sensitiveValuesOf(cipher, event)

  it('takes the leaves at the marked pointers, objects and wildcards included', () => {
    expect([...values.strings].sort()).toEqual(['+49 711 555', 'Jane Roe', 'dented on arrival'])
    expect([...values.exact].sort()).toEqual([42, 'AB'])
  })

  it('encrypts a leaf that contains a long value or equals a short one, and nothing else', () => {
    const result = {
      record: { id: 'NC-1', title: 'Complaint by Jane Roe', code: 'AB', abbrev: 'ABC', qty: 42, other: 43 },
      list: ['dented on arrival', 'fine'],
    }
    const out = encryptDerived(cipher, result, values)
    expect(out.record.id).toBe('NC-1')
    expect(out.record.abbrev).toBe('ABC') // a short value matches only an equal leaf
    expect(out.record.other).toBe(43)
    expect(out.list[1]).toBe('fine')
    for (const v of [out.record.title, out.record.code, out.record.qty, out.list[0]])
      expect(isEncryptedValue(v)).toBe(true)
    expect(cipher.decryptDeep(out)).toEqual(result)
    expect(result.record.title).toBe('Complaint by Jane Roe') // the input is left as is
  })

  it('leaves a value alone when the run saw nothing sensitive, and an encrypted value as it is', () => {
    const plain = { a: 'Jane Roe' }
    expect(encryptDerived(cipher, plain, sensitiveValuesOf(cipher, { type: 'other.v1', data: {} }))).toBe(
      plain,
    )
    const enc = { a: cipher.encryptValue('Jane Roe') }
    expect(encryptDerived(cipher, enc, values)).toBe(enc)
  })

  it('redacts an error message without touching the rest of it', () => {
    expect(redactDerived('QMS 400: contact Jane Roe unknown', values)).toBe(
      'QMS 400: contact [encrypted] unknown',
    )
    expect(redactDerived('AB', values)).toBe('[encrypted]')
    expect(redactDerived('timeout', values)).toBe('timeout')
  })

  it('keeps an encrypted value held as JSON text as text through a rotation, and reads it back', () => {
    const text = JSON.stringify(cipher.encryptValue('Jane Roe'))
    expect(cipher.decryptDeep({ by: text })).toEqual({ by: 'Jane Roe' })
    expect(cipher.decryptDeep({ by: '{"$enc":"v1" is not json' })).toEqual({ by: '{"$enc":"v1" is not json' })
  })
})
