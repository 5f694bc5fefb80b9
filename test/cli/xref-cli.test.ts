/**
 * Issue 4, item 5: `qualink xref import|export` against a running Qualink with authentication on.
 * A signed delivery naming an unmapped QMS material comes in through the ingest API and parks with
 * QLK_XREF_MISSING; the CLI imports the mapping as CSV (with an admin's API key) and the delivery
 * resumes by itself: nothing in the test drives the translation stage. The same running server
 * serves `qualink audit verify` when the CLI finds the database owned by it (as the caller, too).
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/connectors/ingress/webhook-signature.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { qualinkArgs } from '../bundle.ts'
import { ALL, until } from '../engine/harness.ts'
import { xrefTranslator } from '../fixtures/xref-translator.ts'
import { useQualink } from '../qualink-fixture.ts'

const run = promisify(execFile)
const ADMIN = 'k-xref-admin-5d1e9c7a3b'
const VIEWER = 'k-xref-viewer-8b2f6a0c4e'
const AUDITOR = 'k-xref-auditor-1c9e4d7b2a'
const SECRET = 'xref-cli-secret'

/** A QMS-style delivery naming a material by the QMS's own code. */
const translator = xrefTranslator('qms-xref')

describe('qualink xref import|export against a running server with API keys', () => {
  const bed = useQualink('sqlite', 'suite', () => ({
    webhooks: [{ name: 'qms-xref', plant: 'P100', secrets: [SECRET] }],
    translators: [translator],
    apiKeys: [
      { id: 'mdm-admin', sha256: hashApiKey(ADMIN), roles: ['admin'], plants: ['*'] },
      { id: 'viewer', sha256: hashApiKey(VIEWER), roles: ['viewer'], plants: ['*'] },
      { id: 'auditor', sha256: hashApiKey(AUDITOR), roles: ['auditor'], plants: ['*'] },
    ],
  }))

  // each call is a new `qualink` process with the caller's key in its environment
  const cli = (key: string, ...args: string[]) => {
    const env = { ...process.env, QUALINK_API_KEY: key }
    return run(process.execPath, qualinkArgs('xref', ...args, '--url', bed.q.url), {
      cwd: process.cwd(),
      env,
    })
  }
  const csvFile = (name: string, text: string) => {
    const file = path.join(bed.db.dir, name)
    writeFileSync(file, text)
    return file
  }
  const HEADER = 'system,entity_type,external_code,plant,enterprise_id\n'

  it('parks an unmapped delivery, imports the mapping with an admin key, and the delivery resumes by itself', async () => {
    const body = '{"lot":"L-77","material":"QM-77"}'
    const res = await fetch(`${bed.q.url}/v1/ingress/qms-xref`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': 'xref-cli-1',
        'x-qualink-signature': signWebhook(SECRET, body),
      },
      body,
    })
    expect(res.status).toBe(202)
    const parked = async () =>
      (await bed.store.ingress.listRawDeliveries(ALL, { status: 'parked', source: 'qms-xref', limit: 5 }))[0]
    await until(async () => (await parked()) !== undefined)
    expect((await parked())!.lastErrorCode).toBe('QLK_XREF_MISSING')

    const file = csvFile('map.csv', `${HEADER}qms-xref,material,QM-77,P100,MAT-ENT-77\n`)
    // a key that may only read imports nothing, and the CLI fails naming the code
    await expect(cli(VIEWER, 'import', file)).rejects.toMatchObject({
      stderr: expect.stringMatching(/import refused \(HTTP 403, QLK_FORBIDDEN\); nothing was imported/),
    })
    expect(await bed.store.ingress.listXref(ALL, { limit: 10 })).toEqual([])

    const { stdout } = await cli(ADMIN, 'import', file)
    expect(stdout.trim()).toBe('1 mapping(s) upserted; 1 parked deliveries resumed')
    await until(async () => (await bed.store.listEvents(ALL, { limit: 10 })).length === 1)
    const [event] = await bed.store.listEvents(ALL, { limit: 10 })
    expect(event).toMatchObject({ id: 'xref-cli-1#0', subject: 'L-77' })
    expect(event!.envelope.data).toEqual({ note: 'MAT-ENT-77' })
    const audit = await bed.store.listAudit(ALL, { action: 'xref.upserted', limit: 10 })
    expect(audit[0]).toMatchObject({ actor: 'api:mdm-admin', subject: 'xref:qms-xref/material/QM-77' })
  })

  it('exports every mapping as CSV that imports again, and refuses a bad file whole naming its line', async () => {
    const exported = (await cli(VIEWER, 'export')).stdout
    expect(exported).toBe(`${HEADER}qms-xref,material,QM-77,P100,MAT-ENT-77\n`)
    // the export is an import file: re-importing it changes nothing
    expect((await cli(ADMIN, 'import', csvFile('again.csv', exported))).stdout.trim()).toBe(
      '1 mapping(s) upserted; 0 parked deliveries resumed',
    )

    const bad = csvFile('bad.csv', `${HEADER}sap,supplier,V100,P100,SUP-1\nsap,supplier,V300,P100\n`)
    await expect(cli(ADMIN, 'import', bad)).rejects.toMatchObject({
      stderr: expect.stringMatching(/\/lines\/3[\s\S]*import refused \(HTTP 400, QLK_VALIDATION\)/),
    })
    expect((await bed.store.ingress.listXref(ALL, { limit: 10 })).map((r) => r.externalCode)).toEqual([
      'QM-77',
    ])
  })
  it('audit verify, finding the database owned by the server, asks its API as the caller', async () => {
    // the SQLite file is locked by the running server: the CLI goes through /v1/audit/verify
    const verify = (key: string) =>
      run(process.execPath, qualinkArgs('audit', 'verify', '--json', '--url', bed.q.url), {
        cwd: process.cwd(),
        env: { ...process.env, QUALINK_API_KEY: key, QUALINK_DATA_DIR: bed.db.dir, DATABASE_URL: '' },
      })
    const { stdout } = await verify(AUDITOR)
    expect(JSON.parse(stdout)).toMatchObject({ ok: true })
    await expect(verify(VIEWER)).rejects.toMatchObject({
      stderr: expect.stringContaining('QLK_FORBIDDEN'),
    })
  })
})
