import type { FieldProblem } from '../../../contracts/errors.ts'

/**
 * A strict X12 interchange parser (ASC X12.5/X12.6 envelope rules). Strict because a partner's
 * mistake must be rejected whole with its exact position, never guessed around: an 856 read
 * half-way would create half a shipment's expected receipts.
 */

export interface X12Delimiters {
  /** ISA character 4 (the one right after "ISA") */
  readonly element: string
  /** ISA16 */
  readonly component: string
  /** ISA character 106, right after ISA16 */
  readonly segment: string
}

export interface X12Segment {
  /** 1-based position in the interchange, ISA = 1: what a partner's EDI team counts in */
  readonly index: number
  readonly id: string
  /** elements[0] is the segment id, so elements[n] is element n as the X12 guides number it */
  readonly elements: readonly string[]
}

export interface X12Transaction {
  /** ST01, e.g. 856 */
  readonly code: string
  /** ST02 */
  readonly controlNumber: string
  readonly st: X12Segment
  /** the segments between ST and SE */
  readonly body: readonly X12Segment[]
}

export interface X12Group {
  /** GS01, e.g. SH (ship notice) or RC (receiving advice) */
  readonly functionalCode: string
  readonly sender: string
  readonly receiver: string
  /** GS06 */
  readonly controlNumber: string
  readonly transactions: readonly X12Transaction[]
}

export interface X12Interchange {
  readonly delimiters: X12Delimiters
  readonly senderQualifier: string
  readonly sender: string
  readonly receiverQualifier: string
  readonly receiver: string
  /** ISA09 + ISA10 as YYMMDD and HHMM */
  readonly date: string
  readonly time: string
  /** ISA13 */
  readonly controlNumber: string
  /** ISA15: P production, T test */
  readonly usage: string
  /** ISA14 = 1: the sender asks for a TA1 interchange acknowledgment */
  readonly ackRequested: boolean
  readonly groups: readonly X12Group[]
}

export interface X12Problem {
  /** 1-based segment index in the interchange */
  readonly segment: number
  readonly segmentId: string
  /** 1-based element position (ISA13 → 13), absent when the whole segment is at fault */
  readonly element?: number
  readonly message: string
}

export class X12ParseError extends Error {
  constructor(readonly problems: readonly X12Problem[]) {
    super(problems.map(describeProblem).join('; '))
    this.name = 'X12ParseError'
  }
}

export function describeProblem(p: X12Problem): string {
  const el = p.element === undefined ? '' : String(p.element).padStart(2, '0')
  return `segment ${p.segment} (${p.segmentId}${el}): ${p.message}`
}

/** `/segments/<index>/<id>[/<element>]`: the file-drop .error.json and problem+json shape. */
export function toFieldProblems(problems: readonly X12Problem[]): FieldProblem[] {
  return problems.map((p) => ({
    path: `/segments/${p.segment}/${p.segmentId}${p.element === undefined ? '' : `/${p.element}`}`,
    message: describeProblem(p),
  }))
}

/** ISA01..ISA16 widths: the ISA is fixed-length (106 characters with its terminator). */
const ISA_WIDTHS = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1] as const
const ISA_LENGTH = 106

/** The functional identifier code (GS01) each supported transaction set must travel under. */
const FUNCTIONAL_CODE: Readonly<Record<string, string>> = { '856': 'SH', '861': 'RC', '997': 'FA' }

const SEGMENT_ID = /^[A-Z][A-Z0-9]{1,2}$/
const COUNT = /^\d{1,10}$/

/**
 * The segments of an interchange, delimiters taken from its ISA; throws X12ParseError when the ISA
 * cannot be read or a segment id is malformed. Envelope nesting is not checked here (parseX12 does).
 */
export function readSegments(input: string | Buffer): { delimiters: X12Delimiters; segments: X12Segment[] } {
  const text = typeof input === 'string' ? input : input.toString('latin1')
  const problems = new Problems()
  const fail = problems.add
  const start = text.replace(/^\uFEFF/, '')
  if (!start.startsWith('ISA') || start.length < ISA_LENGTH) {
    throw new X12ParseError([
      {
        segment: 1,
        segmentId: 'ISA',
        message: `an interchange starts with a ${ISA_LENGTH}-character ISA segment`,
      },
    ])
  }
  const delimiters: X12Delimiters = { element: start[3]!, component: start[104]!, segment: start[105]! }
  if (/[A-Za-z0-9 ]/.test(delimiters.element + delimiters.segment)) {
    throw new X12ParseError([
      {
        segment: 1,
        segmentId: 'ISA',
        message: 'element separator and segment terminator must not be letters, digits or spaces',
      },
    ])
  }
  const isaElements = start.slice(0, ISA_LENGTH - 1).split(delimiters.element)
  if (isaElements.length !== 17) {
    throw new X12ParseError([
      {
        segment: 1,
        segmentId: 'ISA',
        message: `ISA has ${isaElements.length - 1} elements, expected 16 of fixed width`,
      },
    ])
  }
  ISA_WIDTHS.forEach((w, i) => {
    if (isaElements[i + 1]!.length !== w) fail(1, 'ISA', `must be exactly ${w} characters`, i + 1)
  })
  problems.throwIfAny()

  // Terminators are often followed by CR/LF for readability; that whitespace is not data.
  const segments: X12Segment[] = [{ index: 1, id: 'ISA', elements: isaElements }]
  const rest = start.slice(ISA_LENGTH).split(delimiters.segment)
  for (const rawSeg of rest) {
    const s = rawSeg.replace(/^[\r\n]+|[\r\n]+$/g, '')
    if (s === '' && rawSeg === rest[rest.length - 1]) continue
    const index = segments.length + 1
    const elements = s.split(delimiters.element)
    const id = elements[0] ?? ''
    if (!SEGMENT_ID.test(id)) fail(index, id || '?', `'${id}' is not a segment id`)
    segments.push({ index, id, elements })
  }
  problems.throwIfAny()

  return { delimiters, segments }
}

/** Parses one interchange; throws X12ParseError listing every problem found. */
export function parseX12(input: string | Buffer): X12Interchange {
  const problems = new Problems()
  const fail = problems.add
  const { delimiters, segments } = readSegments(input)
  const isa = segments[0]!.elements
  if (!/^\d{9}$/.test(isa[13]!)) fail(1, 'ISA', 'interchange control number must be 9 digits', 13)
  if (!/^[PT]$/.test(isa[15]!)) fail(1, 'ISA', 'usage indicator must be P or T', 15)
  if (!/^\d{6}$/.test(isa[9]!)) fail(1, 'ISA', 'interchange date must be YYMMDD', 9)
  if (!/^\d{4}$/.test(isa[10]!)) fail(1, 'ISA', 'interchange time must be HHMM', 10)

  const groups: X12Group[] = []
  let i = 1
  let iea: X12Segment | undefined
  while (i < segments.length) {
    const seg = segments[i]!
    if (seg.id === 'IEA') {
      iea = seg
      i++
      break
    }
    if (seg.id !== 'GS') {
      fail(seg.index, seg.id, 'expected GS (functional group) or IEA here')
      throw new X12ParseError(problems.list)
    }
    const group = readGroup(segments, i, problems)
    groups.push(group.group)
    i = group.next
  }
  if (!iea) {
    const last = segments[segments.length - 1]!
    fail(last.index + 1, 'IEA', `interchange ends after segment ${last.index} (${last.id}) without IEA`)
    throw new X12ParseError(problems.list)
  }
  for (const extra of segments.slice(i)) fail(extra.index, extra.id, 'segment after IEA')
  checkTrailer(iea, groups.length, isa[13]!, 'functional groups', 'ISA13', fail)
  if (groups.length === 0) fail(iea.index, 'IEA', 'interchange holds no functional group')
  problems.throwIfAny()
  return {
    delimiters,
    senderQualifier: isa[5]!,
    sender: isa[6]!.trim(),
    receiverQualifier: isa[7]!,
    receiver: isa[8]!.trim(),
    date: isa[9]!,
    time: isa[10]!,
    controlNumber: isa[13]!,
    usage: isa[15]!,
    ackRequested: isa[14] === '1',
    groups,
  }
}

type Fail = (segment: number, segmentId: string, message: string, element?: number) => void

class Problems {
  readonly list: X12Problem[] = []
  readonly add: Fail = (segment, segmentId, message, element) => {
    this.list.push(
      element === undefined ? { segment, segmentId, message } : { segment, segmentId, element, message },
    )
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new X12ParseError(this.list)
  }
}

/** GS … GE starting at segments[at]; the caller made sure segments[at] is GS. */
function readGroup(
  segments: readonly X12Segment[],
  at: number,
  problems: Problems,
): { group: X12Group; next: number } {
  const fail = problems.add
  const gs = segments[at]!
  if (gs.elements.length < 9) fail(gs.index, 'GS', `GS has ${gs.elements.length - 1} elements, expected 8`)
  const gs06 = gs.elements[6] ?? ''
  if (!/^\d{1,9}$/.test(gs06)) fail(gs.index, 'GS', 'group control number must be 1-9 digits', 6)
  const transactions: X12Transaction[] = []
  let i = at + 1
  while (i < segments.length && segments[i]!.id === 'ST') {
    const st = segments[i]!
    const code = st.elements[1] ?? ''
    const control = st.elements[2] ?? ''
    if (!/^\d{3}$/.test(code)) fail(st.index, 'ST', 'transaction set identifier must be 3 digits', 1)
    else if (FUNCTIONAL_CODE[code] && FUNCTIONAL_CODE[code] !== gs.elements[1])
      fail(gs.index, 'GS', `a ${code} travels under functional code ${FUNCTIONAL_CODE[code]}`, 1)
    if (!/^[A-Za-z0-9]{4,9}$/.test(control)) fail(st.index, 'ST', 'control number must be 4-9 characters', 2)
    let j = i + 1
    while (j < segments.length && !['SE', 'ST', 'GE', 'GS', 'IEA'].includes(segments[j]!.id)) j++
    const se = segments[j]
    if (se?.id !== 'SE') {
      fail(
        st.index,
        'ST',
        `transaction set ${control} has no SE before ${se ? `segment ${se.index} (${se.id})` : 'the end'}`,
      )
      throw new X12ParseError(problems.list)
    }
    // SE01 counts every segment of the set including ST and SE (X12.6 §3.6).
    checkTrailer(se, j - i + 1, control, 'segments', 'ST02', fail)
    transactions.push({ code, controlNumber: control, st, body: segments.slice(i + 1, j) })
    i = j + 1
  }
  const ge = segments[i]
  if (ge?.id !== 'GE') {
    const where = ge ? `segment ${ge.index} (${ge.id})` : 'the end'
    fail(
      ge?.index ?? segments.length + 1,
      ge?.id ?? 'GE',
      `expected ST or GE closing group ${gs06}, found ${where}`,
    )
    throw new X12ParseError(problems.list)
  }
  checkTrailer(ge, transactions.length, gs06, 'transaction sets', 'GS06', fail)
  return {
    group: {
      functionalCode: gs.elements[1] ?? '',
      sender: gs.elements[2] ?? '',
      receiver: gs.elements[3] ?? '',
      controlNumber: gs06,
      transactions,
    },
    next: i + 1,
  }
}

/** SE/GE/IEA: element 1 is the count of what they close, element 2 repeats the opener's control number. */
function checkTrailer(
  seg: X12Segment,
  count: number,
  control: string,
  what: string,
  opener: string,
  fail: Fail,
) {
  const n = seg.elements[1] ?? ''
  if (!COUNT.test(n)) fail(seg.index, seg.id, `count '${n}' is not a number`, 1)
  else if (Number(n) !== count) fail(seg.index, seg.id, `says ${Number(n)} ${what}, found ${count}`, 1)
  if ((seg.elements[2] ?? '') !== control)
    fail(
      seg.index,
      seg.id,
      `control number '${seg.elements[2] ?? ''}' does not match ${opener} '${control}'`,
      2,
    )
}
