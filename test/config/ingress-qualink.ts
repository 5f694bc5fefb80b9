import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { openQualink } from '../qualink-fixture.ts'
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
  const { store, q, close } = await openQualink('sqlite', () => ({
    webhooks: rt.options.webhooks,
    translators: rt.options.translators,
    runEngine: false,
  }))
  return {
    store,
    q,
    rawDeliveries: async () =>
      (await q.app.inject({ method: 'GET', url: '/v1/raw-deliveries' })).json().deliveries as unknown[],
    close,
  }
}
