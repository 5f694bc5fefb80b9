import { describe, expect, it } from 'vitest'
import { defineTaxonomy, toEnterpriseCode, toLocalCodes } from './taxonomy.ts'

const dispositions = defineTaxonomy({
  kind: 'disposition',
  plants: {
    P100: { A1: 'RELEASE', R1: 'SCRAP', R2: 'RETURN_TO_VENDOR', S: 'SCRAP' },
    P200: { OK: 'RELEASE', NAE: 'REWORK' },
  },
})

describe('code taxonomies', () => {
  it('maps local codes per plant to enterprise codes', () => {
    expect(toEnterpriseCode(dispositions, 'P100', 'R1')).toBe('SCRAP')
    expect(toEnterpriseCode(dispositions, 'P200', 'NAE')).toBe('REWORK')
    expect(toEnterpriseCode(dispositions, 'P200', 'SCRAP')).toBe('SCRAP')
    expect(toLocalCodes(dispositions, 'P100', 'SCRAP')).toEqual(['R1', 'S'])
  })

  it('a missing mapping is QLK_XREF_MISSING naming plant, code and field', () => {
    expect(() => toEnterpriseCode(dispositions, 'P200', 'R1', '/data/code')).toThrow(
      expect.objectContaining({
        code: 'QLK_XREF_MISSING',
        message: "plant P200 has no disposition code mapping for 'R1'",
        errors: [{ path: '/data/code', message: expect.stringMatching(/'R1' of plant P200/) }],
      }),
    )
  })

  it('refuses a table that maps to an unknown enterprise code, listing every bad entry', () => {
    expect(() =>
      defineTaxonomy({
        kind: 'defect',
        enterpriseCodes: ['SCRATCH', 'DENT'],
        plants: { P1: { K01: 'SCRATCH', K02: 'CRACK', K03: 'BURR' } },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'QLK_CONFIG_INVALID',
        errors: [
          expect.objectContaining({ path: '/plants/P1/K02' }),
          expect.objectContaining({ path: '/plants/P1/K03' }),
        ],
      }),
    )
    expect(() => defineTaxonomy({ kind: 'defect', plants: {} })).toThrow(/no enterprise codes/)
  })
})
