import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { FieldCipher } from '../../src/security/encryption.ts'
import { withFieldEncryption } from '../../src/security/encryption-store.ts'
import { qualinkArgs } from '../bundle.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append } from '../engine/harness.ts'
import { complaintEvent } from './fixtures.ts'

const run = promisify(execFile)
const K1 = randomBytes(32)
const K2 = randomBytes(32)
const FIELDS = { 'crm.complaint.opened.v1': ['/data/complaint/description', '/data/complaint/customer'] }

const complaint = (n: number) =>
  complaintEvent(n, {
    customer: `CUST-${n}`,
    severity: 'minor',
    description: `burr on the flange, case ${n}`,
  }) as unknown as CloudEvent

const YAML = `version: 1
plants: {}
security:
  encryption:
    keys:
      k1: { secretEnv: QLK_TEST_K1 }
      k2: { secretEnv: QLK_TEST_K2 }
    activeKey: k2
    fields:
      crm.complaint.opened.v1: [/data/complaint/description, /data/complaint/customer]
`

describe.each(DIALECTS)('qualink keys (a process) on %s', (dialect: Dialect) => {
  let db: TestDatabase | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
  })
  afterEach(async () => {
    await db?.cleanup()
    db = undefined
  })

  const keys = async (...args: string[]) => {
    const env = {
      ...process.env,
      QLK_TEST_K1: K1.toString('base64'),
      QLK_TEST_K2: K2.toString('hex'),
      ...(dialect === 'sqlite' ? { QUALINK_DATA_DIR: db!.dir } : { DATABASE_URL: db!.location }),
    }
    try {
      const r = await run(process.execPath, qualinkArgs('keys', ...args), { env })
      return { code: 0, out: r.stdout, err: r.stderr }
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string }
      return { code: x.code, out: x.stdout, err: x.stderr }
    }
  }

  it('counts values per key, refuses a key that is not active, rotates to 0 left and nothing is lost', async () => {
    const sent = [complaint(1), complaint(2), complaint(3)]
    const raw = await db!.open()
    const cipherK1 = new FieldCipher({ keys: new Map([['k1', K1]]), activeKey: 'k1', fields: FIELDS })
    await append(withFieldEncryption(raw, cipherK1), ...sent)
    await raw.close()
    const config = path.join(db!.dir, 'qualink.yaml')
    writeFileSync(config, YAML)

    const status = await keys('status', '--config', config)
    expect(status.code).toBe(0)
    expect(status.out).toContain('values by key: k1: 6')
    expect(status.out).toContain('values left under other keys: k1: 6')

    const refused = await keys('rotate', '--to', 'k1', '--config', config)
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('QLK_CONFIG_INVALID')
    expect(refused.err).toContain('/security/encryption/activeKey')

    const rotated = await keys('rotate', '--to', 'k2', '--batch', '2', '--config', config)
    expect(rotated.code).toBe(0)
    expect(rotated.out).toContain('6 values re-encrypted')
    expect(rotated.out).toContain("0 values left under keys other than 'k2'")

    const after = await db!.open()
    try {
      const onlyK2 = withFieldEncryption(
        after,
        new FieldCipher({ keys: new Map([['k2', K2]]), activeKey: 'k2', fields: FIELDS }),
      )
      const events = await onlyK2.listEvents(ALL, { limit: 10 })
      expect(Object.fromEntries(events.map((e) => [e.id, e.envelope.data]))).toEqual(
        Object.fromEntries(sent.map((e) => [e.id, e.data])),
      )
    } finally {
      await after.close()
    }
  })
})
