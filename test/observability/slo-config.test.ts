/** SLOs in qualink.yaml: each bad objective is named by path and rule; a good one reaches startQualink's options. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from '../config/fixture.ts'

let tmp: TempDir
beforeEach(() => {
  tmp = new TempDir()
})
afterEach(() => tmp.remove())

const ENV = {
  CHAT_URL: 'https://chat.example/hooks/qa',
  ERP_SECRET: 's',
  ERPNEXT_KEY: 'k',
  ERPNEXT_SECRET: 's',
}

function withChat(slos: unknown): Doc {
  const d = baseDoc()
  ;(d.connectors as Doc).chat = { kind: 'notify/webhook', config: { urlEnv: 'CHAT_URL' } }
  ;((d.egress as Doc).allowlist as Doc).chat = ['https://chat.example']
  ;((d.plants as Doc).P100 as Doc).notify = 'chat'
  d.slos = slos
  return d
}

describe('slos in qualink.yaml', () => {
  it('a valid objective becomes an evaluator option with durations in milliseconds; connectors get the metrics', () => {
    const loaded = loadConfig(
      tmp.write(
        'qualink.yaml',
        withChat({
          evaluateEvery: '30s',
          objectives: {
            'hold-fast': {
              indicator: 'completion-to-erp-hold',
              threshold: '2m',
              window: '1h',
              quantile: 0.9,
              plants: ['P100'],
            },
            'no-lost-inspections': {
              indicator: 'inspections-awaiting-creation',
              threshold: 0,
              window: '15m',
              plants: ['P100'],
            },
          },
        }),
      ),
      ENV,
    )
    const rt = buildRuntime(loaded, ENV)
    // every connector built from the file reports to the process's connector metrics
    expect(rt.options.connectorMetrics?.snapshot().map((c) => `${c.name} ${c.kind} ${c.health}`)).toEqual([
      'chat notify/webhook idle',
      'erpnext-p200 erp/erpnext idle',
      'qms-cloud qms/rest idle',
      'sap-p100 erp/sap-s4 idle',
    ])
    expect(rt.options.slos).toEqual({
      everyMs: 30_000,
      objectives: [
        {
          name: 'hold-fast',
          indicator: 'completion-to-erp-hold',
          threshold: 120_000,
          windowMs: 3_600_000,
          quantile: 0.9,
          plants: ['P100'],
        },
        {
          name: 'no-lost-inspections',
          indicator: 'inspections-awaiting-creation',
          threshold: 0,
          windowMs: 900_000,
          quantile: undefined,
          plants: ['P100'],
        },
      ],
    })
  })

  it('names every bad objective by path and rule, all at once', () => {
    const problems = problemsOf(
      tmp,
      withChat({
        objectives: {
          'latency-count': {
            indicator: 'receipt-to-erp-posting',
            threshold: 5,
            window: '1d',
            plants: ['P100'],
          },
          'count-duration': {
            indicator: 'dead-letters',
            threshold: '1h',
            window: '1d',
            quantile: 0.5,
            plants: ['P100'],
          },
          'bad-plant': { indicator: 'dead-letters', threshold: 1, window: '1d', plants: ['P999'] },
          'no-notify': { indicator: 'dead-letters', threshold: 1, window: '1d' },
          'bad-indicator': { indicator: 'happiness', threshold: 1, window: '1d' },
          'bad-window': { indicator: 'dead-letters', threshold: 1, window: 'daily', plants: ['P100'] },
        },
      }),
      ENV,
    ).filter((p) => p.path.startsWith('/slos'))
    const at = (path: string) => problems.filter((p) => p.path === path).map((p) => p.message)
    expect(at('/slos/objectives/latency-count/threshold')).toEqual([
      "must be a duration such as 30s or 4h for latency indicator 'receipt-to-erp-posting'",
    ])
    expect(at('/slos/objectives/count-duration/threshold')).toEqual([
      "must be a whole number (a count) for indicator 'dead-letters'",
    ])
    expect(at('/slos/objectives/count-duration/quantile')).toEqual([
      "applies to latency indicators only, not 'dead-letters'",
    ])
    expect(at('/slos/objectives/bad-plant/plants/0')).toEqual(["references unknown plant 'P999'"])
    // without `plants` the objective covers every plant, and P200 has no notify connector
    expect(at('/slos/objectives/no-notify')).toEqual([
      "plant 'P200' has no notify connector (plants.P200.notify): SLO breaches are sent through it",
    ])
    expect(at('/slos/objectives/bad-indicator/indicator')[0]).toMatch(
      /^must be one of 'receipt-to-qms-inspection', /,
    )
    expect(at('/slos/objectives/bad-window/window')[0]).toMatch(/^must match /)
  })
})
