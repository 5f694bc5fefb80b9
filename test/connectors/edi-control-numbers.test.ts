/**
 * EDI X12 envelope control numbers on both dialects (issue 11 item 5).
 * Inbound: a dropped interchange is keyed by sender and ISA13, so the same interchange dropped
 * again under another name is stored once (the raw-delivery store is the durable register) and a
 * sender's skipped numbers are reported as gaps. Outbound: 861 control numbers come from one
 * database counter, allocated atomically: two store handles (as two processes) drawing at once
 * get every number exactly once.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cursorName, nextControlNumber } from '../../src/connectors/edi/x12/control-numbers.ts'
import { interchangeGaps, x12DeliveryId } from '../../src/connectors/edi/x12/interchanges.ts'
import type { FileDrop } from '../../src/connectors/ingress/file-drop.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'
import { startX12Drop } from './x12-drop.ts'

const VALID = readFileSync(path.join(import.meta.dirname, '../fixtures/edi/856-valid.x12'), 'latin1')

/** The sample 856 under another interchange control number (ISA13 and IEA02 agree). */
const withControl = (n: number) => {
  const ctl = String(n).padStart(9, '0')
  return VALID.replace('*000000101*0*T*', `*${ctl}*0*T*`).replace('IEA*1*000000101', `IEA*1*${ctl}`)
}

describe.each(DIALECTS)('X12 control numbers on %s', (dialect: Dialect) => {
  let db: TestDatabase | undefined
  let store: Store
  let drop: FileDrop | undefined
  let inbound: string

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    inbound = path.join(db.dir, 'edi-in')
    mkdirSync(inbound, { recursive: true })
    drop = startX12Drop(inbound, store, { deliveryIdOf: x12DeliveryId })
  })
  afterEach(async () => {
    await drop?.close()
    await store?.close()
    await db?.cleanup()
  })

  async function dropFile(name: string, content: string) {
    writeFileSync(path.join(inbound, name), content, 'latin1')
    await drop!.scanOnce()
    await drop!.scanOnce()
  }
  const stored = () => store.ingress.listRawDeliveries(ALL, { source: 'edi-v42', limit: 100 })

  it('stores an interchange once however often it is dropped, and reports the numbers a sender skipped', async () => {
    await dropFile('asn-0101.x12', withControl(101))
    await dropFile('asn-0101-resent.x12', withControl(101)) // the partner resends under a new name
    expect((await stored()).map((d) => d.deliveryId)).toEqual(['x12:ZZ:V42SUPPLIER:000000101'])
    await dropFile('asn-0102.x12', withControl(102))
    await dropFile('asn-0106.x12', withControl(106))
    await dropFile('asn-0108.x12', withControl(108))
    expect(await stored()).toHaveLength(4)
    expect(await interchangeGaps(store, ALL, 'edi-v42')).toEqual([
      {
        sender: 'ZZ:V42SUPPLIER',
        first: 101,
        last: 108,
        missing: [
          [103, 105],
          [107, 107],
        ],
      },
    ])
  })

  it('allocates outbound control numbers atomically across two store handles', async () => {
    const other = await db!.open()
    try {
      const draw = (s: Store, n: number) =>
        Promise.all(Array.from({ length: n }, () => nextControlNumber(s.ingress, 'V-42')))
      const [a, b] = await Promise.all([draw(store, 40), draw(other, 40)])
      const all = [...a, ...b].sort((x, y) => x - y)
      expect(all).toEqual(Array.from({ length: 80 }, (_, i) => i + 1))
      expect(await store.ingress.getCursor(cursorName('V-42'))).toBe('80')
    } finally {
      await other.close()
    }
  })

  it('wraps after 999999999 to 1', async () => {
    await store.ingress.setCursor(cursorName('V-43'), '999999998')
    expect(await nextControlNumber(store.ingress, 'V-43')).toBe(999_999_999)
    expect(await nextControlNumber(store.ingress, 'V-43')).toBe(1)
  })
})
