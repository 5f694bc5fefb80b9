/**
 * TA1/997 codes for each kind of envelope and set error, against the code lists cited in
 * acknowledgments.ts (AK502, AK905, TA105), and the reading of a partner's 997.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { assessInterchange, readFunctionalAck, renderAcknowledgment } from './acknowledgments.ts'
import { readSegments } from './parser.ts'
import { readInterchange } from './translator.ts'

const FIXTURES = path.join(import.meta.dirname, '../../../../test/fixtures/edi')
const valid = readFileSync(path.join(FIXTURES, '856-valid.x12'), 'latin1')
const self = { qualifier: 'ZZ', interchangeId: 'QUALINKP100', applicationId: 'QUALINKP100' }
const partner = {
  id: 'V-42',
  qualifier: 'ZZ',
  interchangeId: 'V42SUPPLIER',
  applicationId: 'V42SUPPLIER',
  usage: 'T' as const,
  rejectedConditionCode: '07',
}

/** The acknowledgment's segments after the ISA, one string each. */
function answer(text: string): string[] | undefined {
  const verdict = assessInterchange(text, readInterchange(text).problems)
  if (!verdict) return undefined
  const out = renderAcknowledgment({
    self,
    partner,
    verdict,
    control: 7,
    at: new Date('2025-03-05T09:00:00Z'),
  })
  return out?.trim().split('~\n').slice(1)
}

describe('X12 acknowledgments', () => {
  it('GE02 not matching GS06 is AK905 4; a wrong GE01 is AK905 5', () => {
    expect(answer(valid.replace('GE*1*101', 'GE*1*102'))).toContain('AK9*R*1*1*0*4')
    expect(answer(valid.replace('GE*1*101', 'GE*2*101'))).toContain('AK9*R*2*1*0*5')
  })

  it('a TA1 when ISA14 asks: IEA02 not matching ISA13 is TA104 R, TA105 001', () => {
    const text = valid.replace('*0*T*>', '*1*T*>').replace('IEA*1*000000101', 'IEA*1*000000109')
    expect(answer(text)?.[0]).toBe('TA1*000000101*250304*1015*R*001')
    // the groups themselves were sound, but the interchange is taken whole or not at all
    expect(answer(text)).toContain('AK5*R')
  })

  it('a set Qualink does not take is AK5 R 1; a bad element is AK3 (segment, position in set, 8) and AK5 R 5', () => {
    const po = valid.replace('ST*856*0001', 'ST*850*0001').replace('GS*SH', 'GS*PO')
    expect(answer(po)).toEqual(expect.arrayContaining(['AK1*PO*101', 'AK2*850*0001', 'AK5*R*1']))
    const bad = answer(readFileSync(path.join(FIXTURES, '856-bad-element.x12'), 'latin1'))!
    // segment 16 of the interchange (SN1) is the 14th of its set (ST is 3rd in the interchange)
    expect(bad).toEqual(expect.arrayContaining(['AK2*856*0001', 'AK3*SN1*14**8', 'AK5*R*5', 'AK9*R*1*1*0']))
  })

  it('an unreadable ISA has no sender to answer; a 997 without a TA1 request is not answered', () => {
    expect(answer('not an interchange')).toBeUndefined()
    const ack997 = [
      'ISA*00*          *00*          *ZZ*V42SUPPLIER    *ZZ*QUALINKP100    *250305*0900*U*00401*000000501*0*T*>',
      'GS*FA*V42SUPPLIER*QUALINKP100*20250305*0900*501*X*004010',
      'ST*997*0001',
      'AK1*RC*12',
      'AK2*861*0001',
      'AK5*R*5',
      'AK9*P*2*2*1',
      'SE*6*0001',
      'GE*1*501',
      'IEA*1*000000501',
    ].join('~\n')
    expect(answer(`${ack997}~\n`)).toBeUndefined()
    const { segments } = readSegments(`${ack997}~\n`)
    expect(readFunctionalAck(segments[2]!, segments.slice(3, 7))).toEqual({
      ack: { functionalCode: 'RC', groupControl: '12', code: 'P', errors: ['AK5 0001:5'] },
      problems: [],
    })
    expect(readFunctionalAck(segments[2]!, segments.slice(3, 6)).problems).toEqual([
      { segment: 3, segmentId: 'ST', message: 'the 997 has no AK9 segment' },
    ])
  })
})
