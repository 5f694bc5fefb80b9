/**
 * AdoptionQmsPort over the QMS REST API (`qualink adopt`, docs/workflows.md "Go-live adoption"):
 * a batch's inspection lots (`GET /inspection-lots?batch=…`) and the nonconformances not yet
 * dispositioned (`GET /nonconformances?status=…`, one call per open status). Read-only.
 */
import type { AdoptionQmsPort } from '../../../workflows/ports/adoption.ts'
import type { NonconformanceView } from '../../../workflows/ports/qms.ts'
import { type Json, lotFrom, ncFrom } from './mapping.ts'

/** The QMS's statuses of a nonconformance that still waits for its disposition. */
const OPEN_NC_STATUSES = ['OPEN', 'CONTAINED', 'UNDER_REVIEW'] as const

const itemsOf = (o: Json | null): Json[] => (Array.isArray(o?.items) ? (o.items as Json[]) : [])

export function adoptionQms(
  get: (path: string, context: string) => Promise<Json | null>,
  scale: number,
): Omit<AdoptionQmsPort, 'getInspectionLot'> /* the connector's own read completes the port */ {
  return {
    async findInspectionLots({ lot, material }) {
      const q = new URLSearchParams({ batch: lot, ...(material ? { material } : {}) })
      const found = await get(`/inspection-lots?${q}`, `find inspection lots of batch ${lot}`)
      return itemsOf(found).map((o) => ({
        ...lotFrom(o, scale),
        externalRef: typeof o.externalRef === 'string' ? o.externalRef : '',
      }))
    },
    async listOpenNonconformances() {
      const out: NonconformanceView[] = []
      for (const status of OPEN_NC_STATUSES) {
        const found = await get(`/nonconformances?status=${status}`, `list ${status} nonconformances`)
        out.push(...itemsOf(found).map(ncFrom))
      }
      return out
    },
  }
}
