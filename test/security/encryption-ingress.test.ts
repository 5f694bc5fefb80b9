import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CrmSim, startCrm } from '../../simulators/index.ts'
import { crmWebhookTranslator } from '../../src/connectors/crm/webhook/translator.ts'
import { FieldCipher } from '../../src/security/encryption.ts'
import { rotateKeys } from '../../src/security/encryption-rotate.ts'
import { withFieldEncryption } from '../../src/security/encryption-store.ts'
import type { PostgresStore } from '../../src/store/postgres/store.ts'
import type { SqliteStore } from '../../src/store/sqlite/store.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, type DemoHub, startDemoHub, until } from '../engine/harness.ts'
import { webhookSource } from '../workflows/helpers.ts'
import { sqliteFileText } from './fixtures.ts'

const K1 = randomBytes(32)
const K2 = randomBytes(32)
const FIELDS = { 'crm.complaint.opened.v1': ['/data/complaint/description', '/data/complaint/customer'] }
const cipher = (keys: Record<string, Buffer>, activeKey: string) =>
  new FieldCipher({ keys: new Map(Object.entries(keys)), activeKey, fields: FIELDS })

async function rawText(store: Store): Promise<string> {
  if (store.dialect === 'sqlite') return sqliteFileText(store as SqliteStore)
  const pool = (store as PostgresStore).rawPool()
  const rows = await pool.query(
    `SELECT t::text AS row FROM events t UNION ALL SELECT t::text FROM raw_deliveries t
     UNION ALL SELECT convert_from(body, 'UTF8') FROM raw_deliveries UNION ALL SELECT t::text FROM audit_payloads t`,
  )
  return (rows.rows as Array<{ row: string }>).map((r) => r.row).join('\n')
}

describe.each(DIALECTS)('encryption of what a connector delivers on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  let crm: CrmSim | undefined
  const tag = randomBytes(4).toString('hex')

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      encryption: cipher({ k1: K1 }, 'k1'),
      webhooks: [webhookSource.crm('crm-secret')],
      translators: [crmWebhookTranslator('crm')],
    })
    crm = await startCrm({ webhook: { url: `${hub.q.url}/v1/ingress/crm`, secret: 'crm-secret' } })
  })
  afterEach(async () => {
    await crm?.close()
    await hub?.close()
    hub = undefined
    crm = undefined
  })

  it('a signed CRM webhook over a socket: raw body and canonical fields encrypted at rest, both answered in plaintext, both rotated', async () => {
    const description = `Housing cracked; call Max Mustermann ${tag}`
    const customer = `CUST-${tag}`
    crm!.fileComplaint({ customer, material: 'M-900', batch: 'F-9001', description, severity: 'HIGH' })
    await until(
      async () =>
        (await hub!.q.store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 5 })).length === 1,
    )
    const raw = await rawText(hub!.store)
    expect(raw).not.toContain(description)
    expect(raw).not.toContain(customer)
    expect(raw).toContain('F-9001') // the control: the lot, not sensitive, is there in the clear

    const [event] = await hub!.q.store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 1 })
    const api = (await hub!.q.app.inject({ method: 'GET', url: `/v1/events/${event!.id}` })).json()
    expect(api.data.complaint).toMatchObject({ description, customer, lots: ['F-9001'] })
    const deliveries = (
      await hub!.q.app.inject({ method: 'GET', url: '/v1/raw-deliveries?source=crm' })
    ).json()
    expect(deliveries.deliveries[0].body).toContain(description)
    expect(deliveries.deliveries[0].status).toBe('translated')

    const both = cipher({ k1: K1, k2: K2 }, 'k2')
    expect((await rotateKeys(hub!.store, both, { to: 'k2', dryRun: true })).byKey).toEqual({ k1: 3 })
    const done = await rotateKeys(hub!.store, both, { to: 'k2', batch: 1 })
    expect(done.remaining).toEqual({})
    expect(done.byKey).toEqual({ k2: 3 })
    const onlyK2 = withFieldEncryption(hub!.store, cipher({ k2: K2 }, 'k2'))
    const [delivery] = await onlyK2.ingress.listRawDeliveries(ALL, { source: 'crm', limit: 1 })
    expect(delivery!.body.toString('utf8')).toBe(deliveries.deliveries[0].body)
    expect((await onlyK2.getEvent(ALL, event!.id))!.envelope).toEqual(event!.envelope)
  })
})
