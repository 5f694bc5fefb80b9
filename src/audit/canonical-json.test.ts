import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalJson, hashCanonical, sha256Hex } from './canonical-json.ts'

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units, drops undefined members, writes no whitespace', () => {
    const value = { b: 1, a: [1, { z: undefined, y: 'x' }, undefined], é: 2, A: 3, '': 4, u: undefined }
    expect(canonicalJson(value)).toBe('{"":4,"A":3,"a":[1,{"y":"x"},null],"b":1,"é":2}')
  })

  it('encodes scalars as JSON does, bigints as strings', () => {
    expect([null, true, false, 0, -0, 1.5, 1e21, 'a"\\\u2028😀', 12n].map(canonicalJson)).toEqual([
      'null',
      'true',
      'false',
      '0',
      '0',
      '1.5',
      '1e+21',
      '"a\\"\\\\\u2028😀"',
      '"12"',
    ])
    expect(canonicalJson({ nested: { deep: [[[{ k: 'v' }]]] } })).toBe('{"nested":{"deep":[[[{"k":"v"}]]]}}')
  })

  it('refuses what it cannot encode', () => {
    for (const bad of [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      () => 1,
      Symbol('s'),
      [() => 1],
      { f: Symbol('x') },
    ])
      expect(() => canonicalJson(bad)).toThrow(/canonical JSON cannot encode/)
  })

  it('hashes with SHA-256 hex, the digest createHash gives', () => {
    const text = canonicalJson({ seq: 1, id: 'x' })
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'))
    expect(hashCanonical({ id: 'x', seq: 1 })).toBe(
      createHash('sha256').update('{"id":"x","seq":1}').digest('hex'),
    )
    expect(sha256Hex(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })
})
