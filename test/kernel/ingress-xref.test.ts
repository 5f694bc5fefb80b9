import { describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/connectors/ingress/webhook-signature.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'
import { xrefTranslator } from '../fixtures/xref-translator.ts'
import { useQualink } from '../qualink-fixture.ts'

/** A QMS-style delivery naming a material by the QMS's own code. */
const translator = xrefTranslator('qms-test')

describe.each(DIALECTS)('raw ingress, translation and identity mapping on %s', (dialect: Dialect) => {
  const bed = useQualink(dialect, 'test', () => ({
    webhooks: [{ name: 'qms-test', plant: 'P100', secrets: ['new-secret', 'old-secret'] }],
    translators: [translator],
    runEngine: false, // the test drives the translation stage itself
  }))

  const deliver = (body: string, id: string, signature?: string) =>
    bed.q.app.inject({
      method: 'POST',
      url: '/v1/ingress/qms-test',
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': id,
        ...(signature ? { 'x-qualink-signature': signature } : {}),
      },
      payload: body,
    })
  const deliveries = async (status?: string) =>
    (
      await bed.q.app.inject({ method: 'GET', url: `/v1/raw-deliveries${status ? `?status=${status}` : ''}` })
    ).json().deliveries

  it('refuses forged, stale and unsigned deliveries and stores nothing', async () => {
    const body = '{"lot":"L1","material":"QM-1"}'
    const forged = await deliver(body, 'd-1', signWebhook('wrong', body))
    expect(forged.statusCode).toBe(401)
    expect(forged.json().code).toBe('QLK_SIGNATURE_INVALID')
    const stale = await deliver(
      body,
      'd-1',
      signWebhook('new-secret', body, Math.floor(Date.now() / 1000) - 301),
    )
    expect(stale.json().errors[0].message).toMatch(/more than 300 s/)
    expect((await deliver(body, 'd-1')).statusCode).toBe(401)
    const tampered = await deliver(body.replace('L1', 'L2'), 'd-1', signWebhook('new-secret', body))
    expect(tampered.statusCode).toBe(401)
    expect(
      (
        await deliver(body, 'd-1', signWebhook('x', body)).then(() =>
          bed.q.app.inject({
            method: 'POST',
            url: '/v1/ingress/nope',
            headers: { 'x-delivery-id': 'x' },
            payload: '{}',
          }),
        )
      ).statusCode,
    ).toBe(404)
    expect(await deliveries()).toEqual([])
  })

  it('parks a delivery on a missing mapping and resumes it when the mapping is added', async () => {
    const body = '{"lot":"L1","material":"QM-1"}'
    // Signed with the previous secret: still valid during rotation. A redelivery is a duplicate.
    const first = await deliver(body, 'd-1', signWebhook('old-secret', body))
    expect(first.statusCode).toBe(202)
    expect((await deliver(body, 'd-1', signWebhook('new-secret', body))).json()).toMatchObject({
      duplicate: true,
    })

    await bed.q.translation.runOnce()
    const [parked] = await deliveries('parked')
    expect(parked).toMatchObject({ status: 'parked', lastErrorCode: 'QLK_XREF_MISSING', body })
    expect(await bed.store.listEvents(ALL, { limit: 10 })).toEqual([])

    const put = await bed.q.app.inject({
      method: 'PUT',
      url: '/v1/xref',
      headers: { 'x-qualink-actor': 'mdm' },
      payload: {
        rows: [
          {
            system: 'qms-test',
            entityType: 'material',
            externalCode: 'QM-1',
            plant: 'P100',
            enterpriseId: 'MAT-0001',
          },
        ],
      },
    })
    expect(put.json()).toEqual({ upserted: 1, resumed: 1 })
    await bed.q.translation.runOnce()
    const events = await bed.store.listEvents(ALL, { limit: 10 })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ id: 'd-1#0', subject: 'L1', causationId: 'raw:qms-test:d-1' })
    expect(events[0]!.envelope.data).toEqual({ note: 'MAT-0001' })
    expect((await deliveries('translated'))[0].eventSeq).toBe(events[0]!.seq)
    const audit = await bed.store.listAudit(ALL, { action: 'xref.upserted', limit: 10 })
    expect(audit[0]).toMatchObject({ actor: 'api:mdm', subject: 'xref:qms-test/material/QM-1' })
  })

  it('dead-letters an untranslatable delivery and keeps its raw body', async () => {
    const body = 'not json at all'
    await deliver(body, 'd-bad', signWebhook('new-secret', body))
    await bed.q.translation.runOnce()
    const [dead] = await deliveries('dead')
    expect(dead).toMatchObject({ deliveryId: 'd-bad', body })
    expect(await bed.store.listEvents(ALL, { limit: 10 })).toEqual([])
  })

  it('imports and exports identity mappings as CSV, refusing a bad file whole', async () => {
    const csv =
      'system,entity_type,external_code,plant,enterprise_id\nsap,supplier,V100,P100,SUP-1\nsap,supplier,V200,P100,SUP-2\n'
    const imp = await bed.q.app.inject({
      method: 'POST',
      url: '/v1/xref/import',
      headers: { 'content-type': 'text/csv' },
      payload: csv,
    })
    expect(imp.json()).toMatchObject({ upserted: 2 })
    const exp = await bed.q.app.inject({ method: 'GET', url: '/v1/xref?format=csv' })
    expect(exp.body).toContain('sap,supplier,V100,P100,SUP-1')
    const bad = await bed.q.app.inject({
      method: 'POST',
      url: '/v1/xref/import',
      headers: { 'content-type': 'text/csv' },
      payload: 'system,entity_type,external_code,plant,enterprise_id\nsap,supplier,V300,P100\n',
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().errors[0].path).toMatch(/lines\/2/)
    expect((await bed.q.app.inject({ method: 'GET', url: '/v1/xref' })).json().xref).toHaveLength(2)
  })

  it('publishes the event schemas', async () => {
    const list = (await bed.q.app.inject({ method: 'GET', url: '/v1/schemas' })).json().schemas
    expect(list.map((s: { type: string }) => s.type)).toContain('qms.usage_decision.made.v1')
    const one = await bed.q.app.inject({ method: 'GET', url: '/v1/schemas/qms.usage_decision.made.v1' })
    expect(one.json().$id).toMatch(/qms\.usage_decision\.made\.v1/)
    expect((await bed.q.app.inject({ method: 'GET', url: '/v1/schemas/x.y.z.v9' })).statusCode).toBe(404)
  })
})
