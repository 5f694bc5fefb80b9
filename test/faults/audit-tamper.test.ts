import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { FileAnchorSink } from '../../src/audit/anchors.ts'
import { AuditSealer } from '../../src/audit/sealer.ts'
import type { VerifyReport } from '../../src/audit/verify.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { disableAuditGuards, ingestSealed, tamper } from '../kernel/audit-tamper.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { auditVerifyProcess } from './qualink-process.ts'
import { faultDescribe } from './report.ts'

/**
 * F14 (reference/perf-reliability.md §6): the audit trail tampered with out of band on a real
 * database (immutability triggers dropped, as an administrator could), then `qualink audit
 * verify --json` run as a separate process against the same database and anchor file, as an
 * auditor would. Invariants: exit code 1 and the first broken link named for an edit, a deleted
 * row and a deleted link; the anchored head detects a truncated tail and a whole-chain rewrite
 * that is internally consistent; an untouched trail exits 0. The tampering itself is the
 * kernel tests' (test/kernel/audit-tamper.ts); here only the verifier process is new.
 */
interface Case {
  readonly name: string
  readonly tamper?: (db: TestDatabase, store: Store) => Promise<unknown>
  readonly check: (code: number, report: VerifyReport) => void
}

const CASES: readonly Case[] = [
  {
    name: 'untouched',
    check: (code, r) => {
      expect(code).toBe(0)
      expect(r).toMatchObject({ ok: true, checked: 12, anchorsChecked: 3, firstBroken: null })
    },
  },
  {
    name: 'an edited row before a deleted row and a deleted link',
    tamper: async (db, s) => {
      await tamper.edit(db, s, 5)
      await tamper.deleteRow(db, s, 7)
      await tamper.deleteLink(db, s, 10)
    },
    check: (code, r) => {
      expect(code).toBe(1)
      expect(r.firstBroken?.pos).toBe(5)
      expect(r.firstBroken?.reason).toMatch(/changed after it was sealed/)
    },
  },
  {
    name: 'a deleted row',
    tamper: (db, s) => tamper.deleteRow(db, s, 6),
    check: (code, r) => {
      expect(code).toBe(1)
      expect(r.firstBroken?.pos).toBe(6)
      expect(r.firstBroken?.reason).toMatch(/deleted/)
    },
  },
  {
    name: 'a truncated tail',
    tamper: (db, s) => tamper.truncateFrom(db, s, 9),
    check: (code, r) => {
      expect(code).toBe(1)
      expect(r.firstBroken?.pos).toBe(9)
      expect(r.firstBroken?.reason).toMatch(/truncated/)
    },
  },
  {
    name: 'a whole-chain rewrite with recomputed hashes',
    tamper: (db, s) => tamper.rewriteAll(db, s),
    check: (code, r) => {
      expect(code).toBe(1)
      expect(r.firstBroken?.pos).toBe(4) // the first anchored head
      expect(r.firstBroken?.reason).toMatch(/rewritten/)
    },
  },
]

const scenario = (dialect: Dialect) => () => {
  const dbs: TestDatabase[] = []
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.cleanup()
  })

  it('names the first broken link, and the anchored head finds truncation and rewrite', async () => {
    // One database per case, tampered through the test's store, which is then closed (SQLite
    // has one owner); the verifier processes run side by side.
    for (const c of CASES) {
      const db = await createTestDatabase(dialect, { migrated: true })
      dbs.push(db)
      const store = await db.open()
      try {
        const anchors = new FileAnchorSink(path.join(db.dir, 'audit-anchors.jsonl'))
        await ingestSealed(store, new AuditSealer(store, anchors, { owner: 'f14-sealer' }), 4) // 12 links, 3 anchors
        if (c.tamper) {
          await disableAuditGuards(db, store)
          await c.tamper(db, store)
        }
      } finally {
        await store.close()
      }
    }
    const results = await Promise.all(dbs.map(auditVerifyProcess))
    CASES.forEach((c, i) => {
      const { code, report } = results[i]!
      console.log(
        `[fault-report] F14 ${c.name} (${dialect}): exit ${code}, first broken ` +
          `${report.firstBroken ? `pos ${report.firstBroken.pos}: ${report.firstBroken.reason}` : 'none'}`,
      )
      c.check(code, report)
    })
  })
}

faultDescribe('F14: audit tampering found by `qualink audit verify` (sqlite)', undefined, scenario('sqlite'))
faultDescribe(
  'F14: audit tampering found by `qualink audit verify` (postgres)',
  await sharedPostgresMissing(),
  scenario('postgres'),
)
