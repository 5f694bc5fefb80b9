import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inlineParams } from '../../src/store/postgres/inline-params.ts'
import { AVAILABLE } from '../dialects.ts'
import { AWKWARD } from '../event-fixtures.ts'
import { PG_ADMIN_URL } from '../services.ts'

/**
 * inlineParams writes a parameterised statement's values in as literals (the one-round-trip
 * engine writes on PostgreSQL): the server must read back exactly what the same statement with
 * parameters reads.
 */
describe.skipIf(!AVAILABLE.postgres)('inlineParams on PostgreSQL', () => {
  let c: pg.Client
  beforeAll(async () => {
    c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
  })
  afterAll(async () => {
    await c.end()
  })

  const SQL = `SELECT $1::text AS t, $2::text[] AS ta, $3::int[] AS ia, $4::bigint AS b, $5::bigint - $4 AS diff,
                      $6::boolean AS yes, $7::jsonb AS j, $8::jsonb[] AS ja, $9::text AS nothing, 1-$10 AS neg`

  it('reads back every value as the parameterised statement does, awkward strings included', async () => {
    for (const s of AWKWARD) {
      const values = [
        s,
        [s, null, '', 'NULL', '{a,b}', s],
        [1, -2, null, 0],
        -9_007_199_254_740_991,
        12,
        false,
        JSON.stringify({ s, n: -1.5, nested: [s] }),
        [JSON.stringify({ s }), null, JSON.stringify([s, '"'])],
        null,
        -3,
      ]
      const inlined = await c.query(inlineParams(SQL, values))
      const bound = await c.query(SQL, values)
      expect(inlined.rows).toEqual(bound.rows)
      expect(inlined.rows[0].t).toBe(s)
      expect(inlined.rows[0].neg).toBe(4)
    }
  })

  it('refuses what it cannot write: a missing value, a non-finite number, an object', () => {
    expect(() => inlineParams('SELECT $2', [1])).toThrow(/\$2 has no value/)
    expect(() => inlineParams('SELECT $1', [Number.NaN])).toThrow(/finite/)
    expect(() => inlineParams('SELECT $1', [{ a: 1 }])).toThrow(/object/)
    expect(() => inlineParams('SELECT $1', [[{ a: 1 }]])).toThrow(/array element/)
  })
})
