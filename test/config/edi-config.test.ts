/**
 * The edi/x12 connector in qualink.yaml (issue 11 item 5): its partner ids, folders and the plant
 * and workflow that use it are validated like every connector, each problem a QLK_CONFIG_INVALID
 * entry naming the field and the rule; a valid file builds the EDI port and the inbound folder.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { ediDoc } from './edi-doc.ts'
import { type Doc, problemsOf, TempDir } from './fixture.ts'

describe('edi/x12 in qualink.yaml', () => {
  let tmp: TempDir
  beforeEach(() => {
    tmp = new TempDir()
  })
  afterEach(() => tmp.remove())
  const at = '/connectors/edi-suppliers/config'

  it('a valid file builds the routed EDI port, the inbound folder and its translator; 861s only where a plant has EDI', () => {
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', ediDoc()), {}), {})
    expect(typeof rt.ports.edi?.sendReceivingAdvice).toBe('function')
    expect(rt.options.fileDrops?.map((f) => [f.name, f.plant, f.dir])).toEqual([
      ['edi-suppliers', 'P100', `${tmp.dir}/edi/in`],
    ])
    expect(rt.options.translators?.map((t) => t.source)).toContain('edi-suppliers')
    expect(rt.options.workflows?.map((w) => w.name)).toEqual(['edi-receiving-advice'])
    expect(rt.summary).toContain('1 ingress sources')
  })

  it('names each bad partner id, folder and reference with its rule', () => {
    const bad = ediDoc({
      edi: {
        self: { qualifier: 'Z', interchangeId: 'QUALINKP100', applicationId: 'QUALINKP100' },
        partners: {
          'V-42': {
            qualifier: 'ZZ',
            interchangeId: 'V42*SUPPLIER',
            applicationId: 'V42SUPPLIER',
            usage: 'X',
            rejectedConditionCode: '07',
          },
        },
        inbound: { dir: './edi/in', plant: 'P900' },
        outboundDir: undefined,
      },
    })
    const problems = problemsOf(tmp, bad)
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: `${at}/self/qualifier`, message: 'must match ^[A-Z0-9]{2}$' },
        { path: `${at}/partners/V-42/interchangeId`, message: expect.stringContaining('must match') },
        { path: `${at}/partners/V-42/usage`, message: "must be one of 'P', 'T'" },
        { path: `${at}/outboundDir`, message: 'is required' },
        { path: `${at}/inbound/plant`, message: "references unknown plant 'P900'" },
      ]),
    )
  })

  it('refuses partners it could not tell apart, an inbound folder that is the outbound one, and a source name clash', () => {
    const twins = ediDoc({
      edi: {
        outboundDir: './edi/x',
        inbound: { dir: './edi/x', plant: 'P100' },
        partners: {
          'V-42': {
            qualifier: 'ZZ',
            interchangeId: 'V42',
            applicationId: 'V42',
            usage: 'T',
            rejectedConditionCode: '07',
          },
          'V-43': {
            qualifier: 'ZZ',
            interchangeId: 'V42',
            applicationId: 'V43',
            usage: 'T',
            rejectedConditionCode: '07',
          },
        },
      },
    })
    ;(twins as { ingress?: Doc }).ingress = {
      fileDrops: { 'edi-suppliers': { plant: 'P100', translator: 'lims-csv', dir: './lims' } },
    }
    const problems = problemsOf(tmp, twins)
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([`${at}/partners/V-43/interchangeId`, `${at}/inbound/dir`, `${at}/inbound`]),
    )
    expect(problems.find((p) => p.path === `${at}/partners/V-43/interchangeId`)?.message).toContain(
      "partner 'V-42'",
    )
  })

  it('a plant edi reference must name an edi connector; an 861 plant setting needs one', () => {
    const wrongKind = problemsOf(tmp, ediDoc({ plant: { edi: 'sap-p100' } }))
    expect(wrongKind).toContainEqual({
      path: '/plants/P100/edi',
      message: "connector 'sap-p100' is erp/sap-s4, not a edi connector",
    })
    const noConnector = problemsOf(
      tmp,
      ediDoc({
        workflows: { 'edi-receiving-advice': { enabled: true, plants: { P200: { send861: true } } } },
      }),
    )
    expect(noConnector).toContainEqual({
      path: '/plants/P200/edi',
      message:
        "required: workflow edi-receiving-advice is enabled with settings that send through this plant's edi connector",
    })
    const badSetting = problemsOf(
      tmp,
      ediDoc({ workflows: { 'edi-receiving-advice': { enabled: true, defaults: { send861: 'yes' } } } }),
    )
    expect(badSetting.map((p) => p.path)).toContain('/workflows/edi-receiving-advice/defaults/send861')
  })
})
