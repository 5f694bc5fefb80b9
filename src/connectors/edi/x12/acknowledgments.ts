/**
 * X12 acknowledgments of inbound interchanges: the TA1 interchange acknowledgment (when ISA14 = 1
 * asks for one) and one 997 functional acknowledgment per functional group, rendered together in
 * one interchange back to the sender. And the reading of a partner's 997 answering our 861s.
 *
 * Structure and codes as X12.5/X12.6 define them, taken from these references:
 * - 997 segments ST, AK1 (AK101 GS01, AK102 GS06), AK2 (AK201 ST01, AK202 ST02), AK3 data segment
 *   note (AK301 segment id, AK302 position in the set, AK304 code: 8 = segment has data element
 *   errors), AK5 (AK501 A/E/R, AK502… syntax error codes), AK9 (AK901 A/E/P/R, AK902 sets
 *   included, AK903 received, AK904 accepted, AK905… group error codes), SE; a 997 is never itself
 *   acknowledged (EIDX/X12 997 transaction set notes; Microsoft Learn "997 functional
 *   acknowledgments and error codes for X12 messages in Azure Logic Apps").
 * - AK502: 1 set not supported, 2 trailer missing, 3 ST02/SE02 do not match, 4 number of included
 *   segments does not match actual count, 5 one or more segments in error, 6 missing or invalid
 *   set identifier, 7 missing or invalid set control number (IBM Sterling "AK502 transaction set
 *   level"; TrueCommerce "X12 AK5 Transaction Set Response Trailer").
 * - AK905: 1 group not supported, 3 group trailer missing, 4 GS06/GE02 do not agree, 5 number of
 *   included sets does not match actual count, 6 group control number violates syntax.
 * - TA1: TA101 ISA13, TA102 ISA09, TA103 ISA10, TA104 A/E/R, TA105 note code (000 no error, 001
 *   ISA13/IEA02 do not match, 014 invalid date, 015 invalid time, 018 invalid control number, 020
 *   invalid test indicator, 021 invalid number of included groups, 022 invalid control structure,
 *   023 premature end of file); sent inside an ISA/IEA envelope, before any GS (X12 RFI 1591,
 *   X12.5 §4.4.1; Microsoft Learn "X12 TA1 Acknowledgment"; EDI Tools "TA1 error codes").
 *
 * Qualink rejects an interchange with any error as a whole (nothing of it is stored), so the 997
 * says so: every group AK9 R with 0 accepted, a set with errors of its own AK5 R with its codes,
 * a set without AK5 R and no code (rejected with its interchange).
 */

import { isaControl } from './control-numbers.ts'
import { isaSegment, x12Stamp } from './envelope.ts'
import { readSegments, X12ParseError, type X12Problem, type X12Segment } from './parser.ts'
import type { EdiParty, TradingPartner } from './receiving-advice-861.ts'

export interface SetVerdict {
  /** ST01, ST02 */
  readonly code: string
  readonly control: string
  /** AK502… */
  readonly errors: string[]
  /** AK3: segment id and position within the set (ST = 1) */
  readonly notes: { readonly id: string; readonly position: number }[]
}

export interface GroupVerdict {
  /** GS01, GS06 */
  readonly functionalCode: string
  readonly control: string
  /** GE01 as sent (AK902); the actual count when GE is missing or unreadable */
  readonly included: number
  readonly sets: SetVerdict[]
  /** AK905… */
  readonly errors: string[]
}

export interface InterchangeVerdict {
  readonly senderQualifier: string
  readonly sender: string
  readonly control: string
  readonly date: string
  readonly time: string
  readonly ackRequested: boolean
  /** nothing in the interchange had a problem: it is stored and translated */
  readonly accepted: boolean
  /** TA105 */
  readonly interchangeNote: string
  readonly groups: GroupVerdict[]
}

interface OpenSet {
  st: X12Segment
  verdict: SetVerdict
}
interface OpenGroup {
  verdict: { -readonly [K in keyof GroupVerdict]: GroupVerdict[K] }
  ge?: X12Segment
}

const ENVELOPE_NOTES: Readonly<Record<string, string>> = {
  'IEA:2': '001',
  'IEA:1': '021',
  'ISA:9': '014',
  'ISA:10': '015',
  'ISA:13': '018',
  'ISA:15': '020',
}

/**
 * What to acknowledge, from the interchange and the problems the parser and the transaction set
 * readers found in it. Undefined when not even the ISA and the segments can be read: there is no
 * sender to answer, and the file goes to failed/ with its .error.json only.
 */
export function assessInterchange(
  content: string | Buffer,
  problems: readonly X12Problem[],
): InterchangeVerdict | undefined {
  let segments: X12Segment[]
  try {
    segments = readSegments(content).segments
  } catch (e) {
    if (e instanceof X12ParseError) return undefined
    throw e
  }
  const isa = segments[0]!.elements
  const groups: OpenGroup[] = []
  const setAt = new Map<number, OpenSet>()
  const groupAt = new Map<number, OpenGroup>()
  let group: OpenGroup | undefined
  let set: OpenSet | undefined
  for (const seg of segments.slice(1)) {
    if (seg.id === 'GS') {
      group = {
        verdict: {
          functionalCode: seg.elements[1] ?? '',
          control: seg.elements[6] ?? '',
          included: 0,
          sets: [],
          errors: [],
        },
      }
      groups.push(group)
      set = undefined
    } else if (seg.id === 'ST' && group) {
      set = {
        st: seg,
        verdict: { code: seg.elements[1] ?? '', control: seg.elements[2] ?? '', errors: [], notes: [] },
      }
      group.verdict.sets.push(set.verdict)
    } else if (seg.id === 'GE' && group) {
      group.ge = seg
      groupAt.set(seg.index, group)
      group = undefined
      set = undefined
      continue
    } else if (seg.id === 'IEA') {
      group = undefined
      set = undefined
      continue
    }
    if (set) setAt.set(seg.index, set)
    if (group) groupAt.set(seg.index, group)
    if (seg.id === 'SE') set = undefined
  }

  const notes = new Set<string>()
  const add = (list: string[], code: string) => {
    if (!list.includes(code)) list.push(code)
  }
  for (const p of problems) {
    const s = setAt.get(p.segment)
    const g = groupAt.get(p.segment)
    if (s && p.segmentId === 'SE' && (p.element === 1 || p.element === 2))
      add(s.verdict.errors, p.element === 1 ? '4' : '3')
    else if (s && p.segmentId === 'ST')
      add(
        s.verdict.errors,
        p.element === 2 ? '7' : p.element === 1 ? (/not accepted/.test(p.message) ? '1' : '6') : '2',
      )
    else if (s) {
      add(s.verdict.errors, '5')
      const position = p.segment - s.st.index + 1
      if (!s.verdict.notes.some((n) => n.position === position))
        s.verdict.notes.push({ id: p.segmentId, position })
    } else if (g && p.segmentId === 'GE') add(g.verdict.errors, p.element === 2 ? '4' : '5')
    else if (g && p.segmentId === 'GS') add(g.verdict.errors, p.element === 6 ? '6' : '1')
    else if (g) add(g.verdict.errors, '3')
    else
      notes.add(
        ENVELOPE_NOTES[`${p.segmentId}:${p.element}`] ??
          (p.segmentId === 'IEA' && p.element === undefined ? '023' : '022'),
      )
  }
  for (const g of groups) {
    const ge01 = Number(g.ge?.elements[1])
    g.verdict.included = Number.isInteger(ge01) ? ge01 : g.verdict.sets.length
  }
  return {
    senderQualifier: isa[5] ?? '',
    sender: (isa[6] ?? '').trim(),
    control: isa[13] ?? '',
    date: isa[9] ?? '',
    time: isa[10] ?? '',
    ackRequested: isa[14] === '1',
    accepted: problems.length === 0,
    interchangeNote: [...notes][0] ?? '000',
    groups: groups.map((g) => g.verdict),
  }
}

/**
 * The acknowledgment interchange for `v` under control number `control`, or undefined when there
 * is nothing to send: no TA1 asked for and only 997 groups received (acknowledgments are never
 * acknowledged).
 */
export function renderAcknowledgment(o: {
  readonly self: EdiParty
  readonly partner: TradingPartner
  readonly verdict: InterchangeVerdict
  readonly control: number
  readonly at: Date
}): string | undefined {
  const v = o.verdict
  const groups = v.groups.filter((g) => g.functionalCode !== 'FA')
  if (!v.ackRequested && groups.length === 0) return undefined
  const { ccyymmdd, hhmm } = x12Stamp(o.at)
  const ctl = isaControl(o.control)
  const out: string[][] = [isaSegment(o.self, o.partner, o.at, o.control)]
  if (v.ackRequested) {
    const envelopeOk = v.interchangeNote === '000'
    out.push(['TA1', v.control, v.date, v.time, envelopeOk ? 'A' : 'R', v.interchangeNote])
  }
  if (groups.length > 0) {
    out.push([
      'GS',
      'FA',
      o.self.applicationId,
      o.partner.applicationId,
      ccyymmdd,
      hhmm,
      String(o.control),
      'X',
      '004010',
    ])
    groups.forEach((g, i) => {
      const stControl = String(i + 1).padStart(4, '0')
      const body: string[][] = [
        ['ST', '997', stControl],
        ['AK1', g.functionalCode, g.control],
      ]
      for (const s of g.sets) {
        body.push(['AK2', s.code, s.control])
        for (const n of s.notes) body.push(['AK3', n.id, String(n.position), '', '8'])
        body.push(['AK5', v.accepted ? 'A' : 'R', ...s.errors.slice(0, 5)])
      }
      const accepted = v.accepted ? g.sets.length : 0
      body.push([
        'AK9',
        v.accepted ? 'A' : 'R',
        String(g.included),
        String(g.sets.length),
        String(accepted),
        ...g.errors.slice(0, 5),
      ])
      body.push(['SE', String(body.length + 1), stControl])
      out.push(...body)
    })
    out.push(['GE', String(groups.length), String(o.control)])
  }
  out.push(['IEA', groups.length > 0 ? '1' : '0', ctl])
  return out.map((s) => `${s.join('*')}~\n`).join('')
}

/** A partner's 997: which of our groups it answers and how. */
export interface FunctionalAck {
  /** AK101, AK102: the group acknowledged */
  readonly functionalCode: string
  readonly groupControl: string
  /** AK901 */
  readonly code: 'A' | 'E' | 'P' | 'R'
  /** AK905… as `AK9:<code>`, and `AK5 <ST02>:<code>` for each rejected set's codes */
  readonly errors: string[]
}

/** Reads one 997 transaction set's body; problems name segment and element like the parser's. */
export function readFunctionalAck(
  st: X12Segment,
  body: readonly X12Segment[],
): { ack?: FunctionalAck; problems: X12Problem[] } {
  const problems: X12Problem[] = []
  const ak1 = body.find((s) => s.id === 'AK1')
  const ak9 = body.find((s) => s.id === 'AK9')
  if (!ak1) problems.push({ segment: st.index, segmentId: 'ST', message: 'the 997 has no AK1 segment' })
  else if (!ak1.elements[1] || !/^\d{1,9}$/.test(ak1.elements[2] ?? ''))
    problems.push({
      segment: ak1.index,
      segmentId: 'AK1',
      element: ak1.elements[1] ? 2 : 1,
      message: 'AK1 names the functional identifier and the group control number (1-9 digits)',
    })
  if (!ak9) problems.push({ segment: st.index, segmentId: 'ST', message: 'the 997 has no AK9 segment' })
  else if (!/^[AEPR]$/.test(ak9.elements[1] ?? ''))
    problems.push({ segment: ak9.index, segmentId: 'AK9', element: 1, message: 'AK901 must be A, E, P or R' })
  if (problems.length > 0 || !ak1 || !ak9) return { problems }
  const errors: string[] = ak9.elements
    .slice(5)
    .filter(Boolean)
    .map((c) => `AK9:${c}`)
  let set = ''
  for (const s of body) {
    if (s.id === 'AK2') set = s.elements[2] ?? ''
    if (s.id === 'AK5' && s.elements[1] !== 'A')
      errors.push(
        ...s.elements
          .slice(2)
          .filter(Boolean)
          .map((c) => `AK5 ${set}:${c}`),
      )
  }
  return {
    ack: {
      functionalCode: ak1.elements[1]!,
      groupControl: String(Number(ak1.elements[2])),
      code: ak9.elements[1] as FunctionalAck['code'],
      errors,
    },
    problems,
  }
}
