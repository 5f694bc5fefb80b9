/**
 * The X12 connector's inbound folder: a file drop keyed by envelope (interchanges.ts), checked
 * strictly (translator.ts: one error anywhere refuses the whole interchange, nothing stored), and
 * answered through the same folder transport with a TA1 (when ISA14 asks) and a 997 per group
 * (acknowledgments.ts). A partner's 997 marks the 861 group it answers accepted, partial or
 * rejected (store/edi-outbound.ts).
 *
 * Idempotency: an acknowledgment's control number is recorded under the interchange's delivery id
 * and content hash before its file is written, so a file taken again after a crash (the hook runs
 * before the file leaves the folder) is answered with the same interchange, same ISA13. The same
 * interchange dropped again later is a duplicate raw delivery: it is neither translated again nor
 * answered with a new acknowledgment (its recorded one is written again, same control number).
 */
import { createHash } from 'node:crypto'
import { acknowledgeEdiOutbound, type EdiAckStatus } from '../../../store/edi-outbound.ts'
import type { StoreRef } from '../../../store/types.ts'
import type { FileDropConfig, FileOutcome } from '../../ingress/file-drop.ts'
import { assessInterchange, renderAcknowledgment } from './acknowledgments.ts'
import type { X12AdviceConfig } from './advice-port.ts'
import { isaControl, nextControlNumber } from './control-numbers.ts'
import { x12DeliveryId } from './interchanges.ts'
import { writeInterchange } from './receiving-advice-861.ts'
import { checkX12File, readInterchange } from './translator.ts'

export interface X12InboundConfig {
  /** the source name of the raw deliveries (the connector's name) */
  readonly name: string
  readonly plant: string
  readonly dir: string
  readonly pollMs?: number
  readonly settleMs?: number
}

const STATUS: Readonly<Record<string, EdiAckStatus>> = {
  A: 'accepted',
  E: 'partial',
  P: 'partial',
  R: 'rejected',
}

/** What an inbound file's handling did, for logs and tests. */
export interface InboundHandled {
  readonly ackFile?: string
  readonly acknowledged: readonly {
    readonly groupControl: string
    readonly status: EdiAckStatus
    readonly known: boolean
  }[]
}

/** Answers one inbound file (the file drop's afterFile hook); idempotent. */
export async function handleInboundFile(
  store: StoreRef,
  advice: X12AdviceConfig,
  fileName: string,
  content: Buffer,
  outcome: FileOutcome,
): Promise<InboundHandled> {
  const db = store.current
  if (!db) throw new Error(`EDI connector ${advice.connector}: no store bound`)
  const { acks, problems } = readInterchange(content)
  const verdict = assessInterchange(content, problems)
  if (!verdict) return { acknowledged: [] }
  const partner = Object.values(advice.partners).find(
    (p) => p.qualifier === verdict.senderQualifier && p.interchangeId === verdict.sender,
  )
  // a sender that is no configured partner has no address to answer to
  if (!partner) return { acknowledged: [] }
  const acknowledged: { groupControl: string; status: EdiAckStatus; known: boolean }[] = []
  if (outcome.stored)
    for (const a of acks) {
      const status = STATUS[a.code]!
      const known = await acknowledgeEdiOutbound(db.sql, {
        partner: partner.id,
        groupControl: a.groupControl,
        status,
        codes: a.errors,
        atMs: await db.now(),
      })
      acknowledged.push({ groupControl: a.groupControl, status, known })
    }
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16)
  const record = `edi-x12:ack:${x12DeliveryId(fileName, content)}:${hash}`
  const prior = await db.ingress.getCursor(record)
  if (prior === null && outcome.stored && outcome.duplicate) return { acknowledged }
  const first = prior === null
  const [control, atMs] = first ? [0, Date.now()] : (prior.split('@').map(Number) as [number, number])
  const render = (n: number) =>
    renderAcknowledgment({ self: advice.self, partner, verdict, control: n, at: new Date(atMs) })
  if (render(1) === undefined) return { acknowledged }
  let n = control
  if (first) {
    n = await nextControlNumber(db.ingress, partner.id)
    await db.ingress.setCursor(record, `${n}@${atMs}`)
  }
  const kind = verdict.groups.some((g) => g.functionalCode !== 'FA') ? '997' : 'TA1'
  const safeId = partner.id.replace(/[^A-Za-z0-9_-]/g, '_')
  const ackFile = await writeInterchange(
    advice.outboundDir,
    `${kind}-${safeId}-${isaControl(n)}.x12`,
    render(n)!,
  )
  return { ackFile, acknowledged }
}

/** The file drop of the connector's inbound folder. */
export function x12InboundDrop(
  cfg: X12InboundConfig,
  advice: X12AdviceConfig,
  store: StoreRef,
  onHandled?: (fileName: string, handled: InboundHandled) => void,
): FileDropConfig {
  return {
    name: cfg.name,
    plant: cfg.plant,
    dir: cfg.dir,
    pattern: /\.x12$/i,
    pollMs: cfg.pollMs,
    settleMs: cfg.settleMs,
    check: checkX12File,
    deliveryIdOf: x12DeliveryId,
    afterFile: async (fileName, content, outcome) => {
      const handled = await handleInboundFile(store, advice, fileName, content, outcome)
      onHandled?.(fileName, handled)
    },
  }
}
