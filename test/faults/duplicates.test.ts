import { once } from 'node:events'
import net from 'node:net'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { FaultProxy } from './fault-proxy.ts'
import { mesMessage, natsMissing, useNatsMesHub } from './nats-mes-hub.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F7 (reference/perf-reliability.md §6): duplicate delivery.
 * - Broker: a private JetStream stream on the shared NATS with a 1 s duplicate window. A resend
 *   of the same Nats-Msg-Id inside the window is dropped by JetStream itself; one after the
 *   window is stored by the stream a second time (its PubAck says so) and delivered again. The
 *   reference's "> 2 min" is JetStream's default window; shrinking the window makes the same
 *   case fast. Qualink's raw-delivery dedup on the message id must absorb it.
 * - HTTP: the fault proxy writes one `POST /v1/events` to Qualink twice on the same connection
 *   (a retransmitted request as the server sees it); both answers are read off the socket.
 * Invariant: one stored event per id, and a workflow step counting its effects per event id
 * (the stand-in for an ERP document) records each event once.
 */
const WINDOW_MS = 1000

/** Writes one whole HTTP request in a single write and collects what comes back until `done`. */
async function rawRequest(host: string, request: string, done: (answer: string) => boolean): Promise<string> {
  const [h, p] = host.split(':')
  const s = net.connect({ host: h, port: Number(p) })
  await once(s, 'connect')
  let answer = ''
  s.on('data', (c: Buffer) => {
    answer += c.toString('utf8')
  })
  s.write(request)
  await until(() => done(answer), 20_000)
  s.destroy()
  return answer
}

const scenario = (dialect: Dialect) => () => {
  let proxy: FaultProxy
  /** one entry per effect: the event id whose step ran */
  const effects: string[] = []

  const countEffects = defineWorkflow<unknown>({
    name: 'count-effects',
    version: 1,
    triggers: ['mes.operation.completed.v1'],
    key: (e) => e.id,
    async run(ctx, trigger) {
      return ctx.step('post-document', async () => {
        effects.push(trigger.id)
        return { posted: trigger.id }
      })
    },
  })

  const hub = useNatsMesHub(dialect, { workflows: [countEffects], duplicateWindowMs: WINDOW_MS })
  beforeEach(async () => {
    proxy = await FaultProxy.start({ port: Number(new URL(hub.q.url).port) })
  })
  afterEach(async () => {
    await proxy?.close()
  })

  const completed = async () =>
    (await hub.store.engine.listRuns(ALL, { status: 'completed', limit: 100 })).map((r) => r.key)

  it('stores and applies each id once across broker resends past the window and a retransmitted POST', async () => {
    const publish = (id: string, order: string) => hub.publish(id, mesMessage(id, order))
    const acks = [await publish('d-1', 'O-1'), await publish('d-2', 'O-2')]
    const inWindow = await publish('d-1', 'O-1')
    expect(inWindow.duplicate).toBe(true) // JetStream's own dedup inside the window
    await until(async () => (await completed()).length === 2)
    // JetStream remembers a message id only for its duplicate window (time-based by design, so
    // this waits on the clock): past it, the same id is a new message to the stream.
    const windowEnds = Date.now() + WINDOW_MS + 200
    await until(() => Date.now() > windowEnds, 10_000)
    const pastWindow = await publish('d-1', 'O-1')
    expect(pastWindow.duplicate).toBe(false)
    expect(pastWindow.seq).toBeGreaterThan(acks[1]!.seq)
    // Every stream message, the resend included, delivered to Qualink and acked by it.
    await hub.allAcked(pastWindow.seq)

    // HTTP: one canonical POST, retransmitted by the proxy on the same connection.
    const [template] = await hub.store.listEvents(ALL, { limit: 1 })
    const body = JSON.stringify({ ...template!.envelope, id: 'h-1', source: 'urn:test:f7' })
    proxy.duplicateNext('POST /v1/events')
    const answers = await rawRequest(
      proxy.host,
      `POST /v1/events HTTP/1.1\r\nHost: ${proxy.host}\r\nContent-Type: application/cloudevents+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      (a) => (a.match(/HTTP\/1\.1 /g) ?? []).length >= 2,
    )
    expect(proxy.counts.duplicated).toBe(1)
    expect(answers.match(/HTTP\/1\.1 202/g)).toHaveLength(2)
    expect(answers).toContain('"duplicate":true')
    await until(async () => (await completed()).length === 3)

    const stored = await hub.storedIds()
    const raws = await hub.store.ingress.listRawDeliveries(ALL, { limit: 10 })
    report(`F7 duplicate delivery (${dialect})`, {
      acked: ['d-1', 'd-2', 'h-1'],
      stored,
      effects,
      detail:
        `JetStream: resend inside the ${WINDOW_MS} ms window dropped by the stream, resend after it stored ` +
        `as stream seq ${pastWindow.seq} and delivered; raw deliveries ${raws.length}; ` +
        `HTTP: POST written twice by the proxy, answers 202 + 202 duplicate`,
    })
    expect(stored.sort()).toEqual(['d-1', 'd-2', 'h-1'])
    expect(effects.sort()).toEqual(['d-1', 'd-2', 'h-1'])
    expect(raws.map((r) => r.deliveryId).sort()).toEqual(['d-1', 'd-2'])
  })
}

const nats = await natsMissing()
faultDescribe('F7: duplicate delivery by broker and HTTP (sqlite)', nats, scenario('sqlite'))
faultDescribe(
  'F7: duplicate delivery by broker and HTTP (postgres)',
  (await sharedPostgresMissing()) ?? nats,
  scenario('postgres'),
)
