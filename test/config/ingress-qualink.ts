/**
 * A Qualink started from a qualink.yaml's ingress part, as the ingress-source tests use it: the
 * file loaded and built (buildRuntime), its webhook sources and translators served by a Qualink on
 * a fresh SQLite store, the engine off (the test runs the translation stage itself).
 */
import path from 'node:path'
import pino from 'pino'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase } from '../dialects.ts'
import type { Doc, TempDir } from './fixture.ts'

export interface IngressQualink {
  readonly store: Store
  readonly q: Qualink
  /** the raw deliveries as GET /v1/raw-deliveries lists them */
  rawDeliveries(): Promise<unknown[]>
  close(): Promise<void>
}

export async function startIngressFromConfig(
  tmp: TempDir,
  doc: Doc,
  env: NodeJS.ProcessEnv = {},
): Promise<IngressQualink> {
  const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), env)
  const db = await createTestDatabase('sqlite', { migrated: true })
  const store = await db.open()
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(db.dir, 'a.jsonl'),
    webhooks: rt.options.webhooks,
    translators: rt.options.translators,
    runEngine: false,
  })
  return {
    store,
    q,
    rawDeliveries: async () =>
      (await q.app.inject({ method: 'GET', url: '/v1/raw-deliveries' })).json().deliveries as unknown[],
    close: async () => {
      await q.close()
      await store.close()
      await db.cleanup()
    },
  }
}
