/**
 * Per-plant retention (qualink.yaml `retention.plants`): a plant's period for an event type
 * replaces the default for that plant's events only; a type only a plant lists is purged only
 * there; audit rows are never purged and the audit-payload rule covers every plant's period.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { RETENTION_LEASE, RetentionPurger, retentionDocProblems } from '../../src/security/retention.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, problemsOf, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append } from '../engine/harness.ts'
import { complaintEvent } from './fixtures.ts'

const DAY = 86_400_000

const complaintIn = (plant: string, n: number) => {
  const e = complaintEvent(n, {
    lot: `L-${plant}`,
    customer: 'CUST-1',
    severity: 'major',
    description: `text ${plant}`,
  })
  return { ...e, plant, data: { complaint: { ...e.data.complaint, plant } } } as unknown as CloudEvent
}
const pingIn = (plant: string) =>
  ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:retention',
    type: 'qualink.test.pinged.v1',
    plant,
    data: { note: `ping ${plant}` },
  }) as unknown as CloudEvent

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

describe.each(DIALECTS)('per-plant retention on %s', (dialect: Dialect) => {
  it('purges each plant by its own period and audits which plant and period applied', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const db = await createTestDatabase(dialect, { migrated: true })
    cleanups.push(() => db.cleanup())
    const store: Store = await db.open()
    cleanups.push(() => store.close())
    const events = [
      complaintIn('P100', 1),
      complaintIn('P200', 2),
      complaintIn('P300', 3),
      pingIn('P100'),
      pingIn('P300'),
    ]
    await append(store, ...events)
    const auditBefore = await store.maxAuditSeq()

    const purger = new RetentionPurger(store, {
      // complaints expire at once by default; P200 keeps them a year (a customer's period)
      events: { 'crm.complaint.opened.v1': 0 },
      // pings have no default period: only P300 purges them
      plants: { P200: { 'crm.complaint.opened.v1': 365 * DAY }, P300: { 'qualink.test.pinged.v1': 0 } },
      everyMs: 60_000,
    })
    const lease = await store.acquireLease(RETENTION_LEASE, 'test', 30_000)
    const report = await purger.runOnce(lease!)
    expect(report.events).toBe(3)

    const purged = async () =>
      (
        await store.sql.all(
          'SELECT plant, type FROM events WHERE payload_purged_at_ms IS NOT NULL ORDER BY seq',
        )
      ).map((r) => `${r.plant} ${r.type}`)
    expect(await purged()).toEqual([
      'P100 crm.complaint.opened.v1',
      'P300 crm.complaint.opened.v1',
      'P300 qualink.test.pinged.v1',
    ])
    // the kept ones still carry their data
    const kept = await store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 10 })
    expect(kept.find((e) => e.plant === 'P200')?.envelope.data).toEqual(events[1]!.data)

    // one audit entry per plant and period; nothing in the audit log was removed
    const audits = await store.listAudit(ALL, { action: 'retention.purged', limit: 10 })
    expect(audits.map((a) => `${a.plant} ${a.subject}`).sort()).toEqual([
      'P100 retention:events:crm.complaint.opened.v1',
      'P300 retention:events:crm.complaint.opened.v1',
      'P300 retention:events:qualink.test.pinged.v1',
    ])
    expect(await store.maxAuditSeq()).toBe(auditBefore + 3)
    // a second pass finds nothing more
    expect((await purger.runOnce(lease!)).events).toBe(0)
  })
})

describe('per-plant retention in qualink.yaml', () => {
  it('names an unknown plant, an unregistered type and audit payloads shorter than a plant’s period', () => {
    expect(
      retentionDocProblems(
        {
          events: { 'crm.complaint.opened.v1': '30d' },
          plants: {
            P200: { events: { 'crm.complaint.opened.v1': '3650d' } },
            P900: { events: { 'no.such.thing.v1': '1d' } },
          },
          auditPayloads: '365d',
        },
        ['P100', 'P200'],
      )
        .map((p) => p.path)
        .sort(),
    ).toEqual([
      '/retention/auditPayloads',
      '/retention/plants/P900',
      '/retention/plants/P900/events/no.such.thing.v1',
    ])
    expect(
      retentionDocProblems(
        {
          events: { 'crm.complaint.opened.v1': '30d' },
          plants: { P200: { events: { 'crm.complaint.opened.v1': '3650d' } } },
          auditPayloads: '3650d',
        },
        ['P100', 'P200'],
      ),
    ).toEqual([])
  })

  it('qualink.yaml: loads a plant’s periods and refuses a plant that is not configured, by path', () => {
    const tmp = new TempDir()
    try {
      const d = baseDoc()
      d.retention = {
        events: { 'crm.complaint.opened.v1': '30d' },
        plants: { P200: { events: { 'crm.complaint.opened.v1': '3650d' } } },
      }
      const { config } = loadConfig(tmp.write('qualink.yaml', d), {})
      expect(config.retention?.plants?.P200?.events).toEqual({ 'crm.complaint.opened.v1': '3650d' })
      d.retention = { events: {}, plants: { P999: { events: { 'crm.complaint.opened.v1': 'forever' } } } }
      expect(
        problemsOf(tmp, d)
          .map((p) => p.path)
          .sort(),
      ).toEqual(['/retention/plants/P999', '/retention/plants/P999/events/crm.complaint.opened.v1'])
    } finally {
      tmp.remove()
    }
  })
})
