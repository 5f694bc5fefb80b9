/**
 * Change control on both dialects: a version's hash ignores key order; a diff names changed paths
 * with secrets redacted; every recorded change is audited with who; promotion is refused unless
 * a synthetic run against the version passes (simulators); rollback makes the previous promoted
 * version current; a canary version applies to its plant only at start.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { configForStart, promoteConfig, recordStart } from '../../src/config/promote.ts'
import {
  listConfigChanges,
  promotionState,
  recordConfigChange,
  rollbackConfig,
} from '../../src/config/version-store.ts'
import { diffConfigs, formatDiff, REDACTED, versionOf } from '../../src/config/versions.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type TestDatabase } from '../dialects.ts'
import { type SyntheticSims, startSyntheticSims, syntheticDoc } from '../synthetic/fixture.ts'
import { type Doc, TempDir } from './fixture.ts'

const ALL = { allPlants: true, reason: 'change-control test' } as const

describe('configuration versions (pure)', () => {
  it('hash ignores key order and formatting, and changes with any value', () => {
    const tmp = new TempDir()
    try {
      const a = loadConfig(
        tmp.write(
          'a.yaml',
          [
            'version: 1',
            'plants:',
            '  P100: { erp: erp, qms: qms, deadlines: { usageDecision: 72h } }',
            'connectors:',
            '  erp: { kind: erp/sap-s4, config: { baseUrl: "https://s4.example" } }',
            '  qms: { kind: qms/rest, config: { baseUrl: "https://qms.example" } }',
            'egress: { allowlist: { erp: ["https://s4.example"], qms: ["https://qms.example"] } }',
            '',
          ].join('\n'),
        ),
        {},
      )
      const b = loadConfig(
        tmp.write(
          'b.yaml',
          [
            '# the same, keys in another order and block style',
            'connectors:',
            '  qms:',
            '    config: { baseUrl: "https://qms.example" }',
            '    kind: qms/rest',
            '  erp: { config: { baseUrl: "https://s4.example" }, kind: erp/sap-s4 }',
            'plants:',
            '  P100:',
            '    deadlines:',
            '      usageDecision: "72h"',
            '    qms: qms',
            '    erp: erp',
            'version: 1',
            'egress:',
            '  allowlist:',
            '    qms: ["https://qms.example"]',
            '    erp: ["https://s4.example"]',
            '',
          ].join('\n'),
        ),
        {},
      )
      expect(versionOf(a.config).hash).toMatch(/^[0-9a-f]{64}$/)
      expect(versionOf(b.config).hash).toBe(versionOf(a.config).hash)
      const c = structuredClone(a.config) as Doc
      ;(c.plants as Record<string, Doc>).P100!.deadlines = { usageDecision: '48h' }
      expect(versionOf(c).hash).not.toBe(versionOf(a.config).hash)
    } finally {
      tmp.remove()
    }
  })

  it('diff lists the changed paths and redacts secrets', () => {
    const before: Doc = {
      version: 1,
      connectors: {
        erp: {
          kind: 'erp/sap-s4',
          config: { baseUrl: 'https://s4', auth: { username: 'svc', passwordEnv: 'S4_PW' } },
        },
      },
      plants: { P100: { erp: 'erp', qms: 'qms', deadlines: { usageDecision: '72h' } } },
    }
    const after = structuredClone(before) as Doc & { connectors: Record<string, Doc & { config: Doc }> }
    after.connectors.erp!.config.auth = { username: 'svc', passwordEnv: 'S4_PW_2026' }
    after.connectors.erp!.config.baseUrl = 'https://svc:hunter2@s4'
    ;(after.plants as Record<string, Doc>).P100!.deadlines = { usageDecision: '48h' }
    ;(after.plants as Record<string, Doc>).P200 = { erp: 'erp', qms: 'qms' }

    const changes = diffConfigs(before, after)

    expect(changes.map((c) => [c.kind, c.path])).toEqual([
      ['changed', '/connectors/erp/config/auth/passwordEnv'],
      ['changed', '/connectors/erp/config/baseUrl'],
      ['changed', '/plants/P100/deadlines/usageDecision'],
      ['added', '/plants/P200/erp'],
      ['added', '/plants/P200/qms'],
    ])
    const text = formatDiff(changes).join('\n')
    expect(text).toContain('~ /plants/P100/deadlines/usageDecision: "72h" → "48h"')
    expect(text).toContain(`~ /connectors/erp/config/auth/passwordEnv: ${REDACTED} → ${REDACTED}`)
    expect(text).toContain(`~ /connectors/erp/config/baseUrl: "https://s4" → ${REDACTED}`)
    expect(text).not.toMatch(/S4_PW|hunter2/)
  })
})

describe.each(DIALECTS)('change control on %s', (dialect) => {
  let db: TestDatabase
  let store: Store
  let sims: SyntheticSims
  let tmp: TempDir

  beforeAll(async () => {
    if (AVAILABLE[dialect]) sims = await startSyntheticSims()
  })
  afterAll(async () => {
    await sims?.close()
  })
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    tmp = new TempDir()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
    tmp?.remove()
  })

  /** A configuration over the simulators; `deadline` makes versions differ. */
  const version = (deadline: string, qmsUrl?: string) => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: qmsUrl ?? sims.qms.url })
    ;(doc.plants as Record<string, Doc>).P100!.deadlines = { usageDecision: deadline }
    return loadConfig(tmp.write(`qualink-${deadline}.yaml`, doc), {})
  }

  it('stores a version once per hash, each change with who, and audits it in the same transaction', async () => {
    const v = version('72h')
    const first = await recordConfigChange(store, {
      config: v.config,
      files: v.files,
      environment: 'prod',
      action: 'loaded',
      actor: 'system',
    })
    await recordConfigChange(store, {
      config: v.config,
      files: v.files,
      environment: 'prod',
      action: 'loaded',
      actor: 'alice',
    })

    expect(first.hash).toBe(versionOf(v.config).hash)
    const [{ n }] = (await store.sql.all('SELECT COUNT(*) AS n FROM config_versions')) as [{ n: number }]
    expect(Number(n)).toBe(1)
    expect((await listConfigChanges(store, { environment: 'prod' })).map((c) => [c.action, c.actor])).toEqual(
      [
        ['loaded', 'system'],
        ['loaded', 'alice'],
      ],
    )
    const audit = await store.listAudit(ALL, { action: 'config.loaded', limit: 10 })
    expect(audit.map((a) => [a.actor, a.subject])).toEqual([
      ['system', 'config:prod'],
      ['alice', 'config:prod'],
    ])
    // append-only, as the audit log
    await expect(store.sql.run("UPDATE config_changes SET actor = 'mallory'")).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
  })

  it('refuses a promotion whose synthetic run fails, and records one whose run passes', async () => {
    const broken = version('48h', 'http://127.0.0.1:9')
    const err = await promoteConfig(store, broken, { environment: 'prod', actor: 'alice', env: {} }).catch(
      (e: unknown) => e,
    )

    expect(isQualinkError(err) && err.code).toBe('QLK_PROMOTION_REFUSED')
    expect(isQualinkError(err) && err.errors[0]?.path).toBe(
      'P100/supplier-receipt-inspection/qms.create-inspection-lot',
    )
    expect(await promotionState(store, 'prod')).toEqual({})
    expect(
      (await store.listAudit(ALL, { action: 'config.promotion_refused', limit: 5 })).map((a) => a.actor),
    ).toEqual(['alice'])

    const good = version('72h')
    const r = await promoteConfig(store, good, { environment: 'prod', actor: 'alice', env: {} })
    expect(r.report.passed).toBe(true)
    expect(r.change).toMatchObject({ action: 'promoted', actor: 'alice', hash: versionOf(good.config).hash })
    expect(await promotionState(store, 'prod')).toEqual({ current: versionOf(good.config).hash })
    expect((await store.listAudit(ALL, { action: 'config.promoted', limit: 5 })).length).toBe(1)
  })

  it('rolls back to the previous promoted version in one call, and refuses with nothing to go back to', async () => {
    const v1 = version('72h')
    const v2 = version('48h')
    const promote = (v: typeof v1) =>
      recordConfigChange(store, {
        config: v.config,
        files: v.files,
        environment: 'prod',
        action: 'promoted',
        actor: 'alice',
      })
    await promote(v1)
    await promote(v2)
    const h1 = versionOf(v1.config).hash
    const h2 = versionOf(v2.config).hash
    expect(await promotionState(store, 'prod')).toEqual({ current: h2, previous: h1 })

    const back = await rollbackConfig(store, 'prod', 'bob')

    expect(back).toMatchObject({
      action: 'rolled-back',
      hash: h1,
      actor: 'bob',
      detail: { from: h2, to: h1 },
    })
    expect(await promotionState(store, 'prod')).toEqual({ current: h1 })
    expect(
      (await store.listAudit(ALL, { action: 'config.rolled_back', limit: 5 })).map((a) => a.actor),
    ).toEqual(['bob'])
    const again = await rollbackConfig(store, 'prod', 'bob').catch((e: unknown) => e)
    expect(isQualinkError(again) && again.code).toBe('QLK_ROLLBACK_UNAVAILABLE')
    // start now runs v1 even from v2's file, and records what it ran
    const started = await configForStart(store, { ...v2, environment: 'prod' })
    expect(versionOf(started.config).hash).toBe(h1)
    expect(started).toMatchObject({ promoted: h1, fileHash: h2 })
    const loaded = await recordStart(store, { ...v2, environment: 'prod' }, started)
    expect(loaded).toMatchObject({ action: 'loaded', actor: 'system', hash: h1, detail: { fileHash: h2 } })
  })

  it('applies a canary version to its plant only at start; a rollback drops it', async () => {
    const doc = (deadline: string) => {
      const d = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
      const plants = d.plants as Record<string, Doc>
      plants.P200 = { erp: 'erp', qms: 'qms' }
      plants.P100!.deadlines = { usageDecision: deadline }
      plants.P200.deadlines = { usageDecision: deadline }
      return d
    }
    const base = { ...loadConfig(tmp.write('qualink.yaml', doc('72h')), {}), environment: 'prod' as const }
    const next = {
      ...loadConfig(tmp.write('qualink-next.yaml', doc('24h')), {}),
      environment: 'prod' as const,
    }
    const older = loadConfig(tmp.write('qualink-older.yaml', doc('96h')), {})
    for (const v of [older, base])
      await recordConfigChange(store, {
        config: v.config,
        files: v.files,
        environment: 'prod',
        action: 'promoted',
        actor: 'alice',
      })
    const r = await promoteConfig(store, next, {
      environment: 'prod',
      actor: 'alice',
      canaryPlant: 'P100',
      env: {},
    })
    expect(r.change).toMatchObject({ action: 'canary', plant: 'P100' })
    expect(r.report.plants).toEqual(['P100'])

    const started = await configForStart(store, base)

    expect(started.canary).toEqual({ hash: versionOf(next.config).hash, plant: 'P100' })
    expect(started.config.plants.P100!.deadlines?.usageDecision).toBe('24h')
    expect(started.config.plants.P200!.deadlines?.usageDecision).toBe('72h')

    const back = await rollbackConfig(store, 'prod', 'bob')
    expect(back.detail.canaryDropped).toEqual(started.canary)
    const after = await configForStart(store, base)
    expect(after.canary).toBeUndefined()
    expect(after.config.plants.P100!.deadlines?.usageDecision).toBe('96h')
  })
})
