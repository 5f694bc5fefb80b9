import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { qualinkArgs } from '../bundle.ts'
import { append, until } from '../engine/harness.ts'
import { useQualink } from '../qualink-fixture.ts'

const run = promisify(execFile)
const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

describe('qualink trace and audit export against a running server', () => {
  const bed = useQualink('sqlite', 'suite')
  beforeAll(async () => {
    const op = (order: string, consumed: string, produced: string) =>
      ({
        specversion: '1.0',
        id: `${order}-${produced}`,
        source: 'urn:test',
        type: 'mes.operation.completed.v1',
        subject: produced,
        plant: 'P100',
        data: {
          operation: { productionOrder: order, number: '0010' },
          plant: 'P100',
          measurements: [],
          consumed: [{ lot: consumed, material: 'RAW', quantity: { units: 1, scale: 0, uom: 'EA' } }],
          produced: [{ lot: produced, material: 'FG', quantity: { units: 1, scale: 0, uom: 'EA' } }],
          audit,
        },
      }) as unknown as CloudEvent
    await append(bed.store, op('PO-1', 'R1', 'I1'), op('PO-2', 'I1', 'F1'))
    await until(async () => {
      await bed.q.sealer.sealOnce()
      return (await bed.store.countUnsealedAudit()) === 0
    })
  })

  const offline = (...args: string[]) => run(process.execPath, qualinkArgs(...args), { cwd: process.cwd() })
  const cli = (...args: string[]) => offline(...args, '--url', bed.q.url)

  it('prints a backward trace as a tree', async () => {
    const { stdout } = await cli('trace', 'F1')
    expect(stdout.split('\n').slice(0, 3)).toEqual([
      'F1  FG  [P100]',
      '  I1  FG  [P100]',
      '    R1  RAW  [P100]',
    ])
  })

  it('pages a trace: a later page prints the lots it holds under the trace it continues', async () => {
    const first = (await cli('trace', 'F1', '--limit', '2')).stdout.split('\n')
    expect(first.slice(0, 2)).toEqual(['F1  FG  [P100]', '  I1  FG  [P100]'])
    const next = /page with --cursor (\d+)/.exec(first.join('\n'))![1]!
    const later = (await cli('trace', 'F1', '--limit', '2', '--cursor', next)).stdout.split('\n')
    expect(later[0]).toBe('(continues the trace of F1)')
    expect(later[1]).toMatch(/^ {4}R\d {2}RAW {2}\[P100\]/) // depth 2, under I1 of the first page
  })

  it('exports an evidence bundle that verifies offline', async () => {
    const out = path.join(bed.db.dir, 'bundle.json')
    const { stdout } = await cli('audit', 'export', '--lot', 'F1', '--out', out)
    expect(stdout).toMatch(/1 events/)
    expect(verifyBundle(JSON.parse(readFileSync(out, 'utf8'))).ok).toBe(true)
    // the stand-alone verifier: only the file, no server
    expect((await offline('audit', 'verify-bundle', out)).stdout).toMatch(/^evidence OK: \d+ audit entries/)
    const bundle = readFileSync(out, 'utf8')
    const tampered = path.join(bed.db.dir, 'tampered.json')
    writeFileSync(tampered, bundle.replace(/"actor": "([^"]+)"/, '"actor": "$1x"'))
    expect(bundle).not.toBe(readFileSync(tampered, 'utf8'))
    await expect(offline('audit', 'verify-bundle', tampered)).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        /evidence BROKEN:\n- the bundle does not match its digest \(a changed copy\)\n- entry \d+: content does not match its link hash/,
      ),
    })
    await expect(cli('trace', 'NOPE')).rejects.toMatchObject({
      stderr: expect.stringMatching(/QLK_NOT_FOUND/),
    })
  })
})
