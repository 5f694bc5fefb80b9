import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryXrefResolver, resolveOrPark, type XrefRow } from './xref.ts'
import { formatXrefCsv, parseXrefCsv } from './xref-csv.ts'

const row: XrefRow = {
  system: 'sap-p100',
  entityType: 'material',
  externalCode: '000000000000004711',
  plant: 'P100',
  enterpriseId: 'MAT-4711',
}

describe('xref CSV', () => {
  it('parses columns in any order, CRLF, BOM, quotes and blank lines', () => {
    const text =
      '\uFEFFplant,system,entity_type,external_code,enterprise_id\r\n' +
      'P100,sap-p100,material,000000000000004711,MAT-4711\r\n' +
      '\r\n' +
      'P100,qms,supplier,"ACME, Inc. ""East""",SUP-9\r\n'
    expect(parseXrefCsv(text)).toEqual([
      row,
      {
        system: 'qms',
        entityType: 'supplier',
        externalCode: 'ACME, Inc. "East"',
        plant: 'P100',
        enterpriseId: 'SUP-9',
      },
    ])
  })

  it('reports every problem with its line number and imports nothing', () => {
    const text = [
      'system,entity_type,external_code,plant,enterprise_id',
      'sap,material,A,P1,M-A',
      'sap,material,B,,M-B',
      'sap,material,C,P1',
      'sap,material,A,P1,M-OTHER',
      'sap,material,A,P1,M-A',
    ].join('\n')
    try {
      parseXrefCsv(text)
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({
        code: 'QLK_VALIDATION',
        message: 'xref CSV has 3 problem(s); nothing imported',
      })
      expect((e as { errors: unknown }).errors).toEqual([
        { path: '/lines/3/plant', message: 'line 3: plant must not be empty' },
        { path: '/lines/4', message: 'line 4: 4 fields, header has 5' },
        {
          path: '/lines/5/enterprise_id',
          message: "line 5: A is mapped to 'M-A' on line 2 and to 'M-OTHER' here",
        },
      ])
    }
  })

  it('counts lines inside multi-line quoted fields', () => {
    const text =
      'system,entity_type,external_code,plant,enterprise_id\nsap,material,"X\nY",P1,M\nsap,material,Z,,M\n'
    expect(() => parseXrefCsv(text)).toThrow(
      expect.objectContaining({
        errors: [{ path: '/lines/4/plant', message: 'line 4: plant must not be empty' }],
      }),
    )
  })

  it('refuses a bad header naming the column', () => {
    expect(() => parseXrefCsv('system,type,external_code,plant,enterprise_id\n')).toThrow(
      expect.objectContaining({
        errors: [
          { path: '/lines/1/type', message: "line 1: unknown column 'type'" },
          { path: '/lines/1/entity_type', message: "line 1: missing column 'entity_type'" },
        ],
      }),
    )
    expect(() => parseXrefCsv('')).toThrow(/empty/)
  })

  it('format ∘ parse is the identity (property)', () => {
    const value = fc.string({
      minLength: 1,
      maxLength: 12,
      unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\n', '\r\n', ' ', 'é'),
    })
    const rowArb = fc.record({
      system: value,
      entityType: value,
      externalCode: value,
      plant: value,
      enterpriseId: value,
    })
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, {
          selector: (r) => JSON.stringify([r.system, r.entityType, r.externalCode, r.plant]),
          maxLength: 8,
        }),
        (rows) => {
          expect(parseXrefCsv(formatXrefCsv(rows))).toEqual(rows)
        },
      ),
    )
  })
})

describe('xref resolver', () => {
  it('resolves, reverses, and parks a missing mapping with QLK_XREF_MISSING', async () => {
    const r = memoryXrefResolver([row])
    await expect(resolveOrPark(r, row)).resolves.toBe('MAT-4711')
    await expect(r.reverse('sap-p100', 'material', 'MAT-4711', 'P100')).resolves.toBe('000000000000004711')
    await expect(resolveOrPark(r, { ...row, plant: 'P200' }, '/data/material')).rejects.toMatchObject({
      code: 'QLK_XREF_MISSING',
      retryable: true,
      errors: [{ path: '/data/material' }],
    })
  })
})
