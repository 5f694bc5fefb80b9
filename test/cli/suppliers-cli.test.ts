import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { qualinkArgs } from '../bundle.ts'
import { append } from '../engine/harness.ts'
import { useQualink } from '../qualink-fixture.ts'

const run = promisify(execFile)
const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
const kg = (units: number) => ({ units, scale: 3, uom: 'KG' })

describe('qualink suppliers scorecard against a running server', () => {
  const bed = useQualink('sqlite', 'suite', () => ({
    capaPolicy: () => 'block-purchasing',
  }))
  beforeAll(async () => {
    const event = (id: string, type: string, subject: string, data: unknown) =>
      ({
        specversion: '1.0',
        id,
        source: 'urn:test',
        type,
        subject,
        plant: 'P100',
        data,
      }) as unknown as CloudEvent
    await append(
      bed.store,
      event('gr-1', 'erp.goods_receipt.posted.v1', 'B9', {
        materialDocument: { id: '4900000009', year: 2026, item: '1' },
        lot: { id: 'B9', material: 'RAW-100', plant: '1000' },
        supplier: 'SUP-7',
        quantity: kg(200_000),
        bucket: 'qualityInspection',
        audit,
      }),
      event('ud-1', 'qms.usage_decision.made.v1', 'B9', {
        inspectionLot: 'IL-9',
        plant: 'P100',
        lot: 'B9',
        code: 'R1',
        valuation: 'rejected',
        stockPostings: [
          { code: 'RETURN_TO_VENDOR', quantity: kg(50_000) },
          { code: 'USE_AS_IS', quantity: kg(150_000) },
        ],
        audit: { ...audit, operator: 'qe.anna' },
      }),
      event('capa-1', 'qms.capa.opened.v1', 'CAPA-9', {
        correctiveAction: {
          id: 'CAPA-9',
          plant: 'P100',
          kind: 'corrective',
          status: 'open',
          eightDStep: 'D2',
          title: 'Wet bags',
          nonconformances: [],
          supplier: 'SUP-7',
          audit,
        },
      }),
    )
  })

  const cli = (...args: string[]) =>
    run(process.execPath, qualinkArgs(...args, '--url', bed.q.url), {
      cwd: process.cwd(),
    })

  it('prints status, open CAPAs and one line per material; --json prints the API answer', async () => {
    const { stdout } = await cli('suppliers', 'scorecard', 'SUP-7')
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('Supplier SUP-7')
    expect(lines).toContain('Plant P100: purchasing-blocked')
    expect(lines).toContain('  open CAPA CAPA-9 since 2026-11-27T08:00:00Z: Wet bags')
    // 50 of 200 kg returned to the vendor: 250,000 ppm
    expect(lines.find((l) => l.includes('RAW-100'))).toMatch(
      /RAW-100\s+1\s+0\s+1\s+250000\s+50(\.000)? KG\s+R1 rejected \(B9, /,
    )
    const json = JSON.parse((await cli('suppliers', 'scorecard', 'SUP-7', '--json')).stdout)
    expect(json.plants[0].materials[0]).toMatchObject({ lotsReceived: 1, lotsRejected: 1, ppm: 250_000 })
  })

  it('an unknown supplier fails with the API code', async () => {
    await expect(cli('suppliers', 'scorecard', 'NOBODY')).rejects.toMatchObject({
      stderr: expect.stringContaining('QLK_NOT_FOUND'),
    })
  })
})
