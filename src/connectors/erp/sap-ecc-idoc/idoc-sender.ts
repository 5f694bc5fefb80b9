/**
 * Sends one goods-movement IDoc at most once (DESIGN §6), the way IDoc integrations do it: our
 * IDoc number (EDI_DC40-DOCNUM) and the header text are derived from the business key, and
 * before every send the status IDocs ECC wrote for that number are read back:
 * - a 53 (application document posted) means the movement is there: nothing is sent;
 * - a 51 (application document not posted) is a permanent failure with ECC's message; the IDoc is
 *   reprocessed in ECC (BD87) after the cause is fixed, never sent again as a new IDoc;
 * - no status: ECC never got it, so it is sent.
 * After a lost answer (dropped connection, timeout, 5xx) the status folder is watched for up to
 * `statusWaitMs` before the IDoc counts as not arrived. ECC, like the simulator, does not
 * deduplicate inbound IDocs: a second send would post a second material document.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { StockPostingResult } from '../../../workflows/ports/erp.ts'
import type { Clock } from '../../sdk/clock.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import type { SapEccIdocConfig } from './config.ts'
import { answeredStatus, type GoodsMovement, type IdocStatus, mbgmcrXml } from './idocs.ts'
import type { StatusFolder } from './status-folder.ts'

const POLL_MS = 100
const FINAL = new Set(['53', '51'])

export class IdocSender {
  constructor(
    private readonly egress: EgressClient,
    private readonly config: SapEccIdocConfig,
    private readonly folder: StatusFolder,
    private readonly clock: Clock,
    private readonly authorization: string | undefined,
  ) {}

  /** 53 anywhere wins (a 51 reprocessed in BD87 ends in 53); else a 51 is final; else nothing yet. */
  private decide(records: readonly IdocStatus[], what: string): string[] | undefined {
    const posted = records.filter((r) => r.status === '53')
    if (posted.length > 0) return [...new Set(posted.map((r) => r.materialDocument).filter((d) => d !== ''))]
    const failed = records.filter((r) => r.status === '51')
    if (failed.length > 0) {
      const last = failed[failed.length - 1]!
      throw new PermanentError(
        'QLK_REMOTE_REJECTED',
        `${what}: ECC IDoc ${last.eccDocnum} status 51: ${last.text.slice(0, 300)}; fix the cause and reprocess the IDoc in ECC (BD87)`,
      )
    }
    return undefined
  }

  private async waitForStatus(docnum: string): Promise<readonly IdocStatus[]> {
    const until = this.clock.now() + this.config.statusWaitMs
    for (;;) {
      const records = await this.folder.find(docnum)
      if (records.some((r) => FINAL.has(r.status)) || this.clock.now() >= until) return records
      await this.clock.sleep(POLL_MS)
    }
  }

  async post(m: GoodsMovement, context: string, traceparent?: string): Promise<StockPostingResult> {
    const what = `${context} (IDoc ${m.docnum}, ${m.headerText})`
    const xml = mbgmcrXml(m, { sender: this.config.senderPartner, receiver: this.config.receiverPartner })
    for (let round = 0; round < 3; round++) {
      const seen = this.decide(await this.folder.find(m.docnum), what)
      if (seen) return { documents: seen, alreadyDone: round === 0 }
      let answer: ReturnType<typeof answeredStatus>
      try {
        const res = await this.egress.request({
          method: 'POST',
          url: `${this.config.baseUrl}${this.config.inboundPath}`,
          body: { contentType: 'application/xml', text: xml },
          headers: {
            accept: 'text/plain, application/xml',
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
          traceparent,
          context: what,
        })
        answer = answeredStatus(res.text)
      } catch (e) {
        if (!(e instanceof EgressFailure && e.ambiguous)) throw e
        const late = this.decide(await this.waitForStatus(m.docnum), what)
        if (late) return { documents: late, alreadyDone: false }
        continue
      }
      // ECC has the IDoc now: whatever follows, it is never sent again from here.
      const documents = this.decide(await this.waitForStatus(m.docnum), what)
      if (documents) return { documents, alreadyDone: false }
      if (answer?.status === '53') return { documents: [], alreadyDone: false }
      throw new PermanentError(
        answer?.status === '51' ? 'QLK_REMOTE_REJECTED' : 'QLK_REMOTE_CONFLICT',
        `${what}: ECC took the IDoc${answer ? ` as ${answer.eccDocnum} with status ${answer.status}` : ''} but no status IDoc reached ${this.folder.dir} within ${this.config.statusWaitMs} ms; check the IDoc in ECC (WE02) before replaying`,
      )
    }
    throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `${what}: no answer and no status IDoc after 3 sends`, {
      ambiguous: true,
    })
  }
}
