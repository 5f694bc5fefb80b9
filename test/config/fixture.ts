/** A small valid qualink.yaml as an object, and a temp folder to write variants of it into. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.ts'
import { type FieldProblem, isQualinkError } from '../../src/contracts/errors.ts'

export type Doc = Record<string, unknown>

export function baseDoc(): Doc {
  return {
    version: 1,
    connectors: {
      'sap-p100': { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.plant-a.example:44300' } },
      'erpnext-p200': {
        kind: 'erp/erpnext',
        config: {
          baseUrl: 'https://erp.plant-b.example',
          apiKeyEnv: 'ERPNEXT_KEY',
          apiSecretEnv: 'ERPNEXT_SECRET',
          warehouses: { unrestricted: 'Stores', qualityInspection: 'QI' },
        },
      },
      'qms-cloud': { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
    },
    egress: {
      allowlist: {
        'sap-p100': ['https://s4.plant-a.example:44300'],
        'erpnext-p200': ['https://erp.plant-b.example'],
        'qms-cloud': ['https://qms.example'],
      },
    },
    ingress: {
      webhooks: {
        'erp-p100': {
          plant: 'P100',
          translator: 'sap-s4-goods-receipt',
          secrets: [{ secretEnv: 'ERP_SECRET' }],
        },
      },
      fileDrops: { 'lims-p200': { plant: 'P200', translator: 'lims-csv', dir: './drop' } },
    },
    plants: {
      P100: {
        erp: 'sap-p100',
        qms: 'qms-cloud',
        sampling: { default: { level: 'II', aql: '1.0', severity: 'normal' } },
      },
      P200: { erp: 'erpnext-p200', qms: 'qms-cloud', lims: 'lims-p200' },
    },
    workflows: { 'supplier-receipt-inspection': { enabled: true } },
  }
}

export class TempDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'qualink-config-'))
  write(name: string, doc: Doc | string): string {
    const file = path.join(this.dir, name)
    writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc))
    return file
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The problems loadConfig reports for `doc` (fails the test when it loads). */
export function problemsOf(tmp: TempDir, doc: Doc | string, env: NodeJS.ProcessEnv = {}): FieldProblem[] {
  try {
    loadConfig(tmp.write('qualink.yaml', doc), env)
  } catch (e) {
    if (isQualinkError(e) && e.code === 'QLK_CONFIG_INVALID') return [...e.errors]
    throw e
  }
  throw new Error('configuration loaded, expected QLK_CONFIG_INVALID')
}
