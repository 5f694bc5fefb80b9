/**
 * A plant's policy that its ERP connector cannot carry out is refused when the configuration is
 * loaded, at the path of the setting, instead of dead-lettering the first run that needs it: a
 * supplier purchasing block on an ERP without one (ECC), production confirmations on an ERP that
 * does not take them (ERPNext). ERPNext's supplier block (the Supplier's hold) is accepted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from './fixture.ts'

type Plants = Record<string, Record<string, unknown>>

describe("a plant's ERP capabilities in qualink.yaml", () => {
  let tmp: TempDir
  beforeEach(() => {
    tmp = new TempDir()
  })
  afterEach(() => tmp.remove())

  it('supplier purchasing block: accepted on erp/erpnext and erp/sap-s4, refused on ECC IDoc', () => {
    const d = baseDoc()
    const plants = d.plants as Plants
    plants.P100!.supplierQuality = { onCorrectiveAction: 'block-purchasing' }
    plants.P200!.supplierQuality = { onCorrectiveAction: 'block-purchasing' }
    expect(loadConfig(tmp.write('qualink.yaml', d), {}).config.plants.P200?.supplierQuality).toEqual({
      onCorrectiveAction: 'block-purchasing',
    })

    const ecc: Doc = baseDoc()
    ;(ecc.connectors as Record<string, unknown>)['ecc-p100'] = {
      kind: 'erp/sap-ecc-idoc',
      config: { baseUrl: 'https://ecc.plant-a.example', statusDir: '.' },
    }
    ;(ecc.egress as { allowlist: Record<string, string[]> }).allowlist['ecc-p100'] = [
      'https://ecc.plant-a.example',
    ]
    const eccPlants = ecc.plants as Plants
    eccPlants.P100!.erp = 'ecc-p100'
    eccPlants.P100!.supplierQuality = { onCorrectiveAction: 'block-purchasing' }
    expect(problemsOf(tmp, ecc)).toContainEqual({
      path: '/plants/P100/supplierQuality/onCorrectiveAction',
      message:
        "the plant's ERP connector 'ecc-p100' (erp/sap-ecc-idoc) cannot set a supplier's purchasing block",
    })
  })

  it('production confirmations: refused for the ERPNext plant at the layer that asked for them', () => {
    const everywhere = baseDoc()
    everywhere.workflows = { 'in-process-quality-check': { enabled: true, defaults: { confirmToErp: true } } }
    const problems = problemsOf(tmp, everywhere)
    expect(problems).toContainEqual({
      path: '/workflows/in-process-quality-check/defaults/confirmToErp',
      message: "plant P200's ERP connector 'erpnext-p200' (erp/erpnext) cannot take production confirmations",
    })
    // P100 runs on erp/sap-s4, which takes them
    expect(problems.filter((p) => p.message.includes('P100'))).toEqual([])

    const perPlant = baseDoc()
    perPlant.workflows = {
      'in-process-quality-check': { enabled: true, plants: { P200: { confirmToErp: true } } },
    }
    expect(problemsOf(tmp, perPlant)).toContainEqual(
      expect.objectContaining({ path: '/workflows/in-process-quality-check/plants/P200/confirmToErp' }),
    )
    const onlyS4 = baseDoc()
    onlyS4.workflows = {
      'in-process-quality-check': { enabled: true, plants: { P100: { confirmToErp: true } } },
    }
    expect(loadConfig(tmp.write('qualink.yaml', onlyS4), {}).config.workflows).toBeDefined()
  })
})
