import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { FieldProblem } from '../contracts/errors.ts'
import { countByKey, FieldCipher, isEncryptedValue, parseKeySecret } from './encryption.ts'
import { buildFieldCipher, encryptionProblems } from './encryption-config.ts'

const k1 = randomBytes(32)
const cipher = new FieldCipher({
  keys: new Map([['k1', k1]]),
  activeKey: 'k1',
  fields: { 'x.thing.happened.v1': ['/data/contact', '/data/lines/*/note', '/data/absent'] },
})

describe('FieldCipher', () => {
  const envelope = {
    type: 'x.thing.happened.v1',
    id: 'e1',
    data: {
      contact: { name: 'Jane Roe', phone: '+49 711 1' },
      lines: [{ note: 'a', n: 1 }, { note: 7 }],
      keep: 'x',
    },
  }

  it('encrypts exactly the pointed fields, array items through *, and decrypts them back to the same JSON', () => {
    const enc = cipher.encryptEnvelope(envelope)
    expect(isEncryptedValue(enc.data.contact)).toBe(true)
    expect(isEncryptedValue(enc.data.lines[0]!.note)).toBe(true)
    expect(isEncryptedValue(enc.data.lines[1]!.note)).toBe(true)
    expect(enc.data.lines[0]!.n).toBe(1)
    expect(enc.data.keep).toBe('x')
    expect(JSON.stringify(enc)).not.toContain('Jane Roe')
    expect(envelope.data.contact.name).toBe('Jane Roe') // the input is not modified
    expect(cipher.decryptDeep(enc)).toEqual(envelope)
    expect(countByKey(enc)).toEqual({ k1: 3 })
    // encrypting twice does not wrap a value twice
    expect(countByKey(cipher.encryptEnvelope(enc))).toEqual({ k1: 3 })
  })

  it('refuses a value whose ciphertext or key id was altered (GCM tag, key id bound as AAD)', () => {
    const v = cipher.encryptValue('secret')
    const ct = Buffer.from(v.ct, 'base64')
    ct[0] = ct[0]! ^ 1
    expect(() => cipher.decryptValue({ ...v, ct: ct.toString('base64') })).toThrow(
      expect.objectContaining({ code: 'QLK_DECRYPT_FAILED' }),
    )
    const two = new FieldCipher({
      keys: new Map([
        ['k1', k1],
        ['k2', k1],
      ]),
      activeKey: 'k1',
      fields: {},
    })
    expect(() => two.decryptValue({ ...v, kid: 'k2' })).toThrow(
      expect.objectContaining({ code: 'QLK_DECRYPT_FAILED' }),
    )
    expect(() => cipher.decryptValue({ ...v, kid: 'k9' })).toThrow(
      expect.objectContaining({ code: 'QLK_KEY_UNAVAILABLE', message: expect.stringContaining("'k9'") }),
    )
  })

  it('reads 256-bit keys as base64 or hex and refuses anything else', () => {
    expect(parseKeySecret(k1.toString('base64'))).toEqual(k1)
    expect(parseKeySecret(k1.toString('hex'))).toEqual(k1)
    expect(typeof parseKeySecret(randomBytes(16).toString('base64'))).toBe('string')
    expect(typeof parseKeySecret('correct horse battery staple')).toBe('string')
  })
})

describe('security.encryption configuration', () => {
  it('names the path of an unknown active key, an unregistered event type and a pointer outside /data', () => {
    const problems = encryptionProblems({
      keys: { k1: { secretEnv: 'K1' } },
      activeKey: 'k2',
      fields: { 'crm.complaint.opened.v1': ['/complaint/description'], 'no.such.type.v1': ['/data/x'] },
    })
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/security/encryption/activeKey',
      '/security/encryption/fields/crm.complaint.opened.v1/0',
      '/security/encryption/fields/no.such.type.v1',
    ])
  })

  it('refuses a pointer reaching a field a projection keeps as an identifier, and accepts free text', () => {
    const problems = encryptionProblems({
      keys: { k1: { secretEnv: 'K1' } },
      activeKey: 'k1',
      fields: {
        'erp.delivery.shipped.v1': ['/data/customer'],
        'erp.goods_receipt.posted.v1': ['/data/supplierBatch', '/data/lot'],
        'qms.capa.opened.v1': ['/data/correctiveAction/title'],
      },
    })
    expect(problems).toEqual([
      {
        path: '/security/encryption/fields/erp.delivery.shipped.v1/0',
        message: expect.stringContaining('must not reach /data/customer'),
      },
      {
        path: '/security/encryption/fields/erp.goods_receipt.posted.v1/1',
        message: expect.stringContaining('must not reach /data/lot/id'),
      },
    ])
  })

  it('reads keys from their secret references and reports a missing or short one at its path', () => {
    const problems: FieldProblem[] = []
    const ok = buildFieldCipher(
      { keys: { k1: { secretEnv: 'QLK_TEST_K1' } }, activeKey: 'k1', fields: {} },
      { QLK_TEST_K1: k1.toString('base64') },
      '.',
      problems,
    )
    expect(problems).toEqual([])
    expect(ok?.activeKey).toBe('k1')
    const bad = buildFieldCipher(
      {
        keys: { k1: { secretEnv: 'SHORT' }, k2: { secretEnv: 'UNSET_QLK_KEY' } },
        activeKey: 'k1',
        fields: {},
      },
      { SHORT: 'abc' },
      '.',
      problems,
    )
    expect(bad).toBeUndefined()
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/security/encryption/keys/k1/secretEnv',
      '/security/encryption/keys/k2/secretEnv',
    ])
  })
})
