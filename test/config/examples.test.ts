/** The shipped examples validate, and the demo plant builds the same runtime the demo composes in code. */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'

const example = (name: string) =>
  fileURLToPath(new URL(`../../examples/${name}/qualink.yaml`, import.meta.url))

describe('examples', () => {
  for (const name of ['demo-plant', 'two-plants']) {
    it(`${name} validates`, () => {
      expect(loadConfig(example(name), {}).config.version).toBe(1)
    })
  }

  it('demo-plant builds one plant on sap-s4 + qms + mes (in and out) + lims', () => {
    const rt = buildRuntime(loadConfig(example('demo-plant'), {}), {
      QUALINK_ERP_WEBHOOK_SECRET: 'e',
      QUALINK_QMS_WEBHOOK_SECRET: 'q',
    })
    expect(rt.summary).toBe(
      '1 plant (P100), 3 connectors, 4 ingress sources, 2 workflows (supplier-receipt-inspection, inspection-plan-distribution)',
    )
    expect(rt.options.mqtt).toEqual([
      expect.objectContaining({
        name: 'mes-p100',
        plant: 'P100',
        clientId: 'qualink-p100',
        topics: ['qualink-demo/#'],
      }),
    ])
    expect(rt.options.fileDrops?.[0]?.check).toBeTypeOf('function')
    expect(rt.options.workflows?.[0]?.config?.('P100')).toMatchObject({ decisionDeadline: '2m' })
    expect(rt.ports.notify).toBeUndefined()
    expect(rt.ports.mes?.plants).toEqual(['P100'])
  })

  it('a missing secret stops the start with its path, next to every other one', () => {
    expect(() => buildRuntime(loadConfig(example('demo-plant'), {}), {})).toThrow(
      expect.objectContaining({
        code: 'QLK_CONFIG_INVALID',
        errors: [
          {
            path: '/ingress/webhooks/erp-s4/secrets/0/secretEnv',
            message: 'environment variable QUALINK_ERP_WEBHOOK_SECRET is not set',
          },
          {
            path: '/ingress/webhooks/qms/secrets/0/secretEnv',
            message: 'environment variable QUALINK_QMS_WEBHOOK_SECRET is not set',
          },
        ],
      }),
    )
  })
})
