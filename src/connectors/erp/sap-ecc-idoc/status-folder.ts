/**
 * The status IDocs ECC's file port writes for our IDocs (SYSTAT01, one or more per file), read
 * back by our IDoc number. A file that parses is never read again (ECC writes a status file once;
 * the simulator writes a temp name and renames); one that does not parse yet (half written) is
 * retried on the next read. The index lives as long as the connector instance.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { RetryableError } from '../../../engine/errors.ts'
import { type IdocStatus, parseStatusIdocs } from './idocs.ts'

export class StatusFolder {
  private readonly parsed = new Set<string>()
  private readonly byDocnum = new Map<string, IdocStatus[]>()

  constructor(readonly dir: string) {}

  /** Every status record for `docnum` seen so far, oldest file name first. */
  async find(docnum: string): Promise<readonly IdocStatus[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (e) {
      // Without the read-back a retry could post twice: wait for the folder instead of posting.
      throw new RetryableError(
        'QLK_REMOTE_UNAVAILABLE',
        `erp/sap-ecc-idoc: status folder ${this.dir} unreadable (${(e as Error).message}); not posting without read-back`,
      )
    }
    for (const name of names.sort()) {
      if (this.parsed.has(name) || name.startsWith('.') || !name.toLowerCase().endsWith('.xml')) continue
      let records: IdocStatus[]
      try {
        records = parseStatusIdocs(await readFile(path.join(this.dir, name), 'utf8'))
      } catch {
        continue
      }
      this.parsed.add(name)
      for (const r of records) {
        const list = this.byDocnum.get(r.docnum) ?? []
        list.push(r)
        this.byDocnum.set(r.docnum, list)
      }
    }
    return this.byDocnum.get(docnum) ?? []
  }
}
