/** QMS REST vocabulary ↔ canonical (src/model). */
import { PermanentError } from '../../../engine/errors.ts'
import type { InspectionLotStatus } from '../../../model/inspection.ts'
import {
  DISPOSITION_CODES,
  type DispositionCode,
  type NonconformanceStatus,
} from '../../../model/nonconformance.ts'
import { parseDecimal } from '../../../model/quantity.ts'
import type {
  CorrectiveActionView,
  NonconformanceView,
  QmsInspectionLotView,
  UsageDecisionView,
} from '../../../workflows/ports/qms.ts'

export type Json = Record<string, unknown>

const s = (o: Json, f: string): string => (typeof o[f] === 'string' ? (o[f] as string) : '')

/** SAP-style origin code → the QMS's origin word. */
export function originWord(origin: string | undefined): string {
  switch (origin) {
    case undefined:
    case '01':
    case '05':
      return 'GOODS_RECEIPT'
    case '03':
      return 'IN_PROCESS'
    case '04':
      return 'PRODUCTION_RECEIPT'
    case '06':
      return 'CUSTOMER_RETURN'
    default:
      return 'OTHER'
  }
}

const LOT_STATUS: Record<string, InspectionLotStatus> = {
  OPEN: 'released',
  IN_PROGRESS: 'in_inspection',
  DECIDED: 'usage_decision',
  CANCELLED: 'cancelled',
}

export function lotFrom(o: Json, scale: number): QmsInspectionLotView {
  const status = LOT_STATUS[s(o, 'status')]
  if (!status)
    throw new PermanentError('QLK_REMOTE_INVALID_RESPONSE', `QMS lot status '${s(o, 'status')}' is unknown`)
  const unit = s(o, 'unit') || 'PC'
  return {
    id: s(o, 'id'),
    plant: s(o, 'plant'),
    material: s(o, 'material'),
    lot: s(o, 'batch'),
    quantity: parseDecimal(s(o, 'quantity'), scale, unit, 'quantity'),
    sampleSize: typeof o.sampleSize === 'number' ? o.sampleSize : 0,
    status,
    ...(s(o, 'specification') && typeof o.specificationVersion === 'number'
      ? { specification: { id: s(o, 'specification'), version: o.specificationVersion } }
      : {}),
  }
}

export function decisionFrom(lot: Json, ud: Json, scale: number): UsageDecisionView {
  const unit = s(lot, 'unit') || 'PC'
  const lines = (Array.isArray(ud.dispositions) ? (ud.dispositions as Json[]) : []).map((d, i) => {
    const code = s(d, 'disposition')
    if (!(DISPOSITION_CODES as readonly string[]).includes(code))
      throw new PermanentError(
        'QLK_REMOTE_INVALID_RESPONSE',
        `QMS disposition '${code}' has no canonical code`,
      )
    return {
      code: code as DispositionCode,
      quantity: parseDecimal(s(d, 'quantity'), scale, unit, `dispositions/${i}`),
    }
  })
  return {
    inspectionLot: s(lot, 'id'),
    valuation: s(ud, 'decision') === 'ACCEPT' ? 'accepted' : 'rejected',
    code: s(ud, 'code'),
    lines,
    decidedBy: s(ud, 'decidedBy'),
    decidedAt: s(ud, 'decidedAt'),
  }
}

export function ncFrom(o: Json): NonconformanceView {
  const severity = s(o, 'severity').toLowerCase() as NonconformanceView['severity']
  return {
    id: s(o, 'id'),
    title: s(o, 'title'),
    severity,
    status: s(o, 'status').toLowerCase() as NonconformanceStatus,
    ...(s(o, 'inspectionLotId') ? { inspectionLot: s(o, 'inspectionLotId') } : {}),
    ...(s(o, 'batch') ? { lot: s(o, 'batch') } : {}),
  }
}

export function capaFrom(o: Json): CorrectiveActionView {
  const attachments = Array.isArray(o.attachments) ? (o.attachments as Json[]) : []
  return {
    id: s(o, 'id'),
    title: s(o, 'title'),
    status: s(o, 'status') === 'COMPLETED' ? 'completed' : 'open',
    ...(s(o, 'nonconformanceId') ? { nonconformance: s(o, 'nonconformanceId') } : {}),
    attachments: attachments.map((a) => s(a, 'name')),
  }
}
