import { describe, expect, it } from 'vitest'
import { catalogue } from '../../../contracts/catalogue.ts'
import { isQualinkError } from '../../../contracts/errors.ts'
import { EventRegistry } from '../../../contracts/registry.ts'
import { PermanentError } from '../../../engine/errors.ts'
import { memoryXrefResolver } from '../../../mapping/xref.ts'
import type { StoredRawDelivery } from '../../../store/types.ts'
import { qmsWebhookTranslator } from './webhook-translator.ts'

const registry = new EventRegistry(catalogue)
const xref = memoryXrefResolver([])

/** A capa.* webhook as the QMS simulator sends it (simulators/qms/quality-records.ts). */
function capaWebhook(
  type: 'capa.created' | 'capa.updated',
  capa: Record<string, unknown>,
): StoredRawDelivery {
  const body = {
    id: `wh-${type}-${String(capa.eightDStep)}-${String(capa.status)}`,
    type,
    occurredAt: '2026-03-02T08:00:00.000Z',
    data: {
      id: 'CAPA-7',
      type: 'CORRECTIVE',
      title: 'Hardness out of spec',
      supplier: 'V-77',
      nonconformanceId: 'NC-3',
      createdAt: '2026-03-01T08:00:00.000Z',
      updatedAt: '2026-03-02T08:00:00.000Z',
      ...capa,
    },
  }
  return {
    seq: 1,
    source: 'qms',
    deliveryId: body.id,
    plant: 'P100',
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
    receivedAtMs: 0,
  } as unknown as StoredRawDelivery
}

const translate = (raw: StoredRawDelivery) => qmsWebhookTranslator('qms').translate(raw, xref)

describe('QMS capa.* webhooks → canonical CAPA events', () => {
  it('an 8D step change of an open CAPA is qms.capa.step_changed.v1 carrying the step reached', async () => {
    const events = await translate(
      capaWebhook('capa.updated', { status: 'OPEN', eightDStep: 'D3', changes: ['eightDStep'] }),
    )
    expect(events).toHaveLength(1)
    const [e] = events
    // the registry validates the translated event as the translation stage does
    expect(registry.validate(e)).toMatchObject({
      type: 'qms.capa.step_changed.v1',
      subject: 'CAPA-7',
      time: '2026-03-02T08:00:00.000Z',
      plant: 'P100',
      data: {
        correctiveAction: {
          id: 'CAPA-7',
          plant: 'P100',
          kind: 'corrective',
          status: 'open',
          eightDStep: 'D3',
          supplier: 'V-77',
          nonconformances: ['NC-3'],
        },
      },
    })
  })

  it('a step change with a root cause carries both; a root cause alone is no event', async () => {
    const [withCause] = await translate(
      capaWebhook('capa.updated', {
        status: 'OPEN',
        eightDStep: 'D4',
        rootCause: 'furnace temperature drift',
        changes: ['eightDStep', 'rootCause'],
      }),
    )
    expect(registry.validate(withCause)).toMatchObject({
      type: 'qms.capa.step_changed.v1',
      data: { correctiveAction: { eightDStep: 'D4', rootCause: 'furnace temperature drift' } },
    })
    expect(
      await translate(
        capaWebhook('capa.updated', {
          status: 'OPEN',
          eightDStep: 'D4',
          rootCause: 'a second thought',
          changes: ['rootCause'],
        }),
      ),
    ).toEqual([])
  })

  it('completion and reopening move the step too, and stay closed / opened events', async () => {
    const [closed] = await translate(
      capaWebhook('capa.updated', {
        status: 'COMPLETED',
        eightDStep: 'D8',
        changes: ['status', 'eightDStep'],
      }),
    )
    expect(registry.validate(closed)).toMatchObject({
      type: 'qms.capa.closed.v1',
      data: { correctiveAction: { status: 'closed', eightDStep: 'D8' }, effective: true },
    })
    const [reopened] = await translate(
      capaWebhook('capa.updated', { status: 'OPEN', eightDStep: 'D0', changes: ['status', 'eightDStep'] }),
    )
    expect(registry.validate(reopened)).toMatchObject({
      type: 'qms.capa.opened.v1',
      data: { correctiveAction: { status: 'open', eightDStep: 'D0' } },
    })
    const [created] = await translate(capaWebhook('capa.created', { status: 'OPEN', eightDStep: 'D0' }))
    expect(created!.type).toBe('qms.capa.opened.v1')
    // an older QMS names no changes: read as the status it reports, as before
    const [legacy] = await translate(capaWebhook('capa.updated', { status: 'OPEN', eightDStep: 'D2' }))
    expect(legacy!.type).toBe('qms.capa.opened.v1')
  })

  it('a step change that does not say the step reached is refused, naming the field', async () => {
    const e = await translate(capaWebhook('capa.updated', { status: 'OPEN', changes: ['eightDStep'] })).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(e instanceof PermanentError && [e.code, e.message]).toEqual([
      'QLK_VALIDATION',
      expect.stringMatching(/^\/data\/eightDStep: .*CAPA-7/),
    ])
  })

  it('a step the QMS invents is caught by the contract, naming the field', () => {
    const stepOf = (step: string) => ({
      specversion: '1.0',
      id: 'x-1',
      source: 'urn:qualink:qms',
      type: 'qms.capa.step_changed.v1',
      subject: 'CAPA-7',
      time: '2026-03-02T08:00:00.000Z',
      plant: 'P100',
      data: {
        correctiveAction: {
          id: 'CAPA-7',
          plant: 'P100',
          kind: 'corrective',
          status: 'open',
          eightDStep: step,
          title: 't',
          nonconformances: [],
          audit: {
            timestamp: '2026-03-02T08:00:00.000Z',
            sourceSystem: 'qms',
            approvalStatus: 'not_required',
          },
        },
      },
    })
    expect(registry.validate(stepOf('D5')).type).toBe('qms.capa.step_changed.v1')
    const e = (() => {
      try {
        registry.validate(stepOf('D9'))
      } catch (err) {
        return err
      }
    })()
    expect(isQualinkError(e) && e.errors.map((p) => p.path)).toEqual(['/data/correctiveAction/eightDStep'])
  })
})
