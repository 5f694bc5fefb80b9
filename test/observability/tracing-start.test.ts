/**
 * `qualink start` as a process: tracing configured in qualink.yaml, the service name from
 * OTEL_SERVICE_NAME over it; the ingest span reaches a real OTLP receiver and the process's own
 * log line carries its trace id. SIGTERM flushes the export before exit.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { qualinkArgs } from '../bundle.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { startOtlpReceiver } from './otlp-receiver.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('qualink start with tracing', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qualink-tracing-'))
  let child: ChildProcess | undefined

  afterAll(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('exports the ingest span of an event to the configured collector and logs its trace id', async () => {
    const receiver = await startOtlpReceiver()
    try {
      const config = path.join(dir, 'qualink.yaml')
      writeFileSync(
        config,
        stringify({
          version: 1,
          server: { dataDir: './data', tracing: { otlpEndpoint: receiver.url, serviceName: 'from-file' } },
          connectors: {
            sap: { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.example' } },
            qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
          },
          egress: { allowlist: { sap: ['https://s4.example'], qms: ['https://qms.example'] } },
          plants: { P100: { erp: 'sap', qms: 'qms' } },
        }),
      )
      const port = await freePort()
      let output = ''
      const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SERVICE_NAME: 'qualink-cli' }
      delete env.OTEL_EXPORTER_OTLP_ENDPOINT
      child = spawn(process.execPath, qualinkArgs('start', '--config', config, '--port', String(port)), {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout!.on('data', (b) => {
        output += String(b)
      })
      child.stderr!.on('data', (b) => {
        output += String(b)
      })
      await until(() => output.includes('qualink listening'), 60_000)
      const traceId = randomBytes(16).toString('hex')
      const r = await fetch(`http://127.0.0.1:${port}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: randomUUID(),
          source: 'urn:test',
          type: 'qualink.test.pinged.v1',
          subject: 'L1',
          plant: 'P100',
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
          data: { note: 'traced' },
        }),
      })
      expect(r.status, await r.text()).toBe(202)
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      child = undefined
      const ingest = receiver.spans.find((s) => s.name === 'POST /v1/events')
      expect(ingest).toMatchObject({ traceId, service: 'qualink-cli' })
      const lines = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines.find((l) => l.msg === 'ingested')).toMatchObject({
        trace_id: traceId,
        span_id: ingest!.spanId,
      })
    } finally {
      await receiver.close()
    }
  }, 120_000)
})
