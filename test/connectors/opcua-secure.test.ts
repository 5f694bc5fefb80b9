/**
 * The OPC UA source against a server that accepts only SignAndEncrypt / Basic256Sha256 and a
 * user name with password (no anonymous sessions), with a counter as the completion node: the
 * first count read is a baseline, each increment is one completion, named by the count. The
 * server's certificate is trusted the way docs/connectors.md tells an engineer to.
 */
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type OpcUaSourceConfig,
  opcUaDeliveryId,
  startOpcUaSource,
} from '../../src/connectors/mes/opcua/source.ts'
import { opcUaTranslator } from '../../src/connectors/mes/opcua/translator.ts'
import { catalogue } from '../../src/contracts/catalogue.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { type OpcUaPeer, PEER_NODES, startOpcUaPeer } from './opcua-peer.ts'

const NO_XREF = { resolve: async () => undefined, reverse: async () => undefined }

describe('OPC UA source, SignAndEncrypt with a user name', () => {
  let db: TestDatabase
  let store: Store
  let peer: OpcUaPeer
  let pki: string

  beforeAll(async () => {
    pki = mkdtempSync(path.join(os.tmpdir(), 'qlk-opcua-secure-'))
    peer = await startOpcUaPeer({ port: await freePort(), pkiDir: pki, secureUsers: { qualink: 's3cret' } })
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
  }, 60_000)
  afterAll(async () => {
    await peer?.close()
    await store?.close()
    await db?.cleanup()
    rmSync(pki, { recursive: true, force: true })
  }, 60_000)

  const config = (password: string): OpcUaSourceConfig => ({
    name: 'press-opc',
    plant: 'P100',
    endpoint: peer.url,
    securityMode: 'SignAndEncrypt',
    securityPolicy: 'Basic256Sha256',
    username: 'qualink',
    password,
    pkiDir: path.join(pki, 'client'),
    samplingIntervalMs: 10,
    publishingIntervalMs: 50,
    measurements: [
      {
        nodeId: PEER_NODES.diameter.id,
        characteristic: 'DIAMETER',
        unit: 'MM',
        equipment: 'PRESS-1',
        context: {},
        sampling: { none: true },
        atCompletion: 'mean',
      },
    ],
    completion: {
      nodeId: PEER_NODES.counter.id,
      equipment: 'PRESS-1',
      context: { productionOrder: PEER_NODES.order.id, operation: PEER_NODES.operation.id },
    },
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
  })

  it('trusts the server only once its certificate is moved to trusted/, refuses a wrong password, then counts completions', async () => {
    const start = (password: string, extra: Partial<Parameters<typeof startOpcUaSource>[2]> = {}) =>
      startOpcUaSource(config(password), (d) => store.insertRawDelivery(d), {
        logger: pino({ level: 'silent' }),
        ...extra,
      })
    // an unknown server certificate is refused and filed under rejected/ (docs/connectors.md)
    await expect(start('s3cret')).rejects.toThrow(/BadCertificateUntrusted/)
    const client = path.join(pki, 'client')
    const rejected = readdirSync(path.join(client, 'rejected')).filter((f) => f.endsWith('.pem'))
    expect(rejected).toHaveLength(1)
    renameSync(
      path.join(client, 'rejected', rejected[0]!),
      path.join(client, 'trusted', 'certs', rejected[0]!),
    )
    await expect(start('wrong')).rejects.toThrow(/BadUserAccessDenied|BadIdentityToken/)

    peer.set('order', '2000001')
    peer.set('operation', '0010')
    peer.set('counter', 41)
    const outcomes: string[] = []
    const source = await start('s3cret', {
      metrics: { value: (e) => outcomes.push(e.outcome), link: () => {} },
    })
    try {
      // the client made its certificate in the PKI folder given, not under $HOME
      expect(readdirSync(path.join(pki, 'client', 'own', 'certs'))).toContain('client_certificate.pem')
      let at = Date.now() + 60_000
      const next = () => {
        at += 10
        return new Date(at)
      }
      const accepted = () => outcomes.filter((o) => o === 'accepted').length
      await until(() => accepted() === 1) // the initial 12
      // one at a time: the server samples every 10 ms, values set within one sample coalesce
      for (const v of [10, 12, 14]) {
        const before = accepted()
        peer.set('diameter', v, { at: next() })
        await until(() => accepted() > before)
      }
      const raws = async () => store.ingress.listRawDeliveries(ALL, { limit: 100 })
      peer.set('counter', 42, { at: next() })
      await until(async () => (await raws()).length === 1)
      peer.set('counter', 44, { at: next() })
      await until(async () => (await raws()).length === 2)

      const all = await raws()
      expect(all.map((r) => r.deliveryId).sort()).toEqual(
        ['count:42', 'count:44'].map((k) => opcUaDeliveryId(peer.url, PEER_NODES.counter.id, k)).sort(),
      )
      const registry = new EventRegistry(catalogue)
      const first = all.find(
        (r) => r.deliveryId === opcUaDeliveryId(peer.url, PEER_NODES.counter.id, 'count:42'),
      )!
      const [event] = await opcUaTranslator('press-opc').translate(first, NO_XREF)
      const valid = registry.validate(event)
      expect(valid.type).toBe('mes.operation.completed.v1')
      expect(valid.data).toMatchObject({
        operation: { productionOrder: '2000001', number: '0010', workCenter: 'PRESS-1' },
        audit: { sourceSystem: 'press-opc', equipment: 'PRESS-1' },
      })
      // mean of 12, 10, 12, 14; the second completion has no new value, so no measurement
      expect((valid.data as { measurements: unknown[] }).measurements).toEqual([
        expect.objectContaining({ characteristic: 'DIAMETER', value: '12', unit: 'MM' }),
      ])
    } finally {
      await source.close()
    }
  }, 120_000)
})
