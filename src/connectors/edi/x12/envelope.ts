/**
 * The interchange envelope every X12 document Qualink writes opens with: the ISA header (version
 * 00401, repetition separator `U`, component separator `>`) and the date and time stamps its GS
 * and body carry, from one clock reading. Used by our 861s and by our TA1/997 acknowledgments.
 */
import { isaControl } from './control-numbers.ts'
import type { EdiParty, TradingPartner } from './receiving-advice-861.ts'

const pad = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n)
const two = (n: number) => String(n).padStart(2, '0')

/** ISA09 (YYMMDD), GS04 and DTM (CCYYMMDD), ISA10/GS05 (HHMM), all UTC. */
export function x12Stamp(d: Date): { yymmdd: string; ccyymmdd: string; hhmm: string } {
  const yymmdd = `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`
  return {
    yymmdd,
    ccyymmdd: `${d.getUTCFullYear()}${yymmdd.slice(2)}`,
    hhmm: `${two(d.getUTCHours())}${two(d.getUTCMinutes())}`,
  }
}

/** The ISA segment from us to `partner`, interchange control number `control` (ISA13). */
export function isaSegment(self: EdiParty, partner: TradingPartner, at: Date, control: number): string[] {
  const { yymmdd, hhmm } = x12Stamp(at)
  return [
    'ISA',
    '00',
    pad('', 10),
    '00',
    pad('', 10),
    pad(self.qualifier, 2),
    pad(self.interchangeId, 15),
    pad(partner.qualifier, 2),
    pad(partner.interchangeId, 15),
    yymmdd,
    hhmm,
    'U',
    '00401',
    isaControl(control),
    '0',
    partner.usage,
    '>',
  ]
}
