import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { untilTailCaughtUp } from '../dialects.ts'
import { append } from '../engine/harness.ts'
import { useQualink } from '../qualink-fixture.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
const ev = (type: string, subject: string, data: Record<string, unknown>) =>
  ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test',
    type,
    subject,
    plant: 'P100',
    data,
  }) as unknown as CloudEvent

describe('ISA-95 export of a lot over the API', () => {
  const bed = useQualink('sqlite', 'suite', () => ({
    runEngine: false,
  }))
  beforeAll(async () => {
    await append(
      bed.store,
      ev('erp.goods_receipt.posted.v1', 'F-9001', {
        materialDocument: { id: '5000000001', year: 2026, item: '0001' },
        lot: { id: 'F-9001', material: 'M-900', plant: 'P100' },
        quantity: { units: 40_000, scale: 3, uom: 'KG' },
        bucket: 'unrestricted',
        audit,
      }),
      ev('lims.result.reported.v1', 'F-9001', {
        sample: 'LS-1',
        lot: 'F-9001',
        plant: 'P100',
        tests: [{ characteristic: 'HARDNESS', value: '58.2', unit: 'HRC', result: 'pass' }],
        audit,
      }),
    )
    await untilTailCaughtUp(bed.store)
  })

  it('answers B2MML XML and JSON with the stock and the test results; 404 for an unknown lot', async () => {
    const xml = await bed.q.app.inject({ method: 'GET', url: '/v1/lots/F-9001/isa95' })
    expect(xml.statusCode).toBe(200)
    expect(xml.headers['content-type']).toContain('application/xml')
    expect(xml.body).toMatch(/<MaterialLot xmlns=/)
    expect(xml.body).toContain('F-9001')
    expect(xml.body).toContain('HARDNESS')
    expect(xml.body).toContain('58.2')
    const json = (await bed.q.app.inject({ method: 'GET', url: '/v1/lots/F-9001/isa95?format=json' })).json()
    expect(JSON.stringify(json)).toContain('M-900')
    expect((await bed.q.app.inject({ method: 'GET', url: '/v1/lots/NOPE/isa95' })).statusCode).toBe(404)
  })
})
