/** loadConfig refuses every kind of bad qualink.yaml with the path of each problem, all at once. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from './fixture.ts'

let tmp: TempDir
beforeEach(() => {
  tmp = new TempDir()
})
afterEach(() => tmp.remove())

type Plants = Record<string, Doc & { sampling: { default: Doc } }>
const plants = (d: Doc) => d.plants as Plants
const connectors = (d: Doc) => d.connectors as Record<string, { config: Doc }>
const paths = (ps: Array<{ path: string }>) => ps.map((p) => p.path)

describe('loadConfig', () => {
  it('loads a valid file and fills the schema defaults', () => {
    const { config, files, environment } = loadConfig(tmp.write('qualink.yaml', baseDoc()), {})
    expect(files).toHaveLength(1)
    expect(environment).toBeUndefined()
    expect(config.workflows?.['supplier-receipt-inspection']?.enabled).toBe(true)
    expect(Object.keys(config.plants)).toEqual(['P100', 'P200'])
  })

  it('bad enum: names the field and the allowed values', () => {
    const d = baseDoc()
    plants(d).P100!.sampling.default.aql = '0.7'
    const [p, ...rest] = problemsOf(tmp, d)
    expect(rest).toEqual([])
    expect(p!.path).toBe('/plants/P100/sampling/default/aql')
    expect(p!.message).toMatch(/^must be one of '0\.010', .*'0\.65', '1\.0'/)
  })

  it('server.journal: at-yield or per-step, anything else named by path', () => {
    const d = baseDoc()
    d.server = { ...(d.server as Doc), journal: 'per-step' }
    expect(loadConfig(tmp.write('qualink.yaml', d), {}).config.server?.journal).toBe('per-step')
    d.server = { ...(d.server as Doc), journal: 'sometimes' }
    const [p, ...rest] = problemsOf(tmp, d)
    expect(rest).toEqual([])
    expect(p).toMatchObject({ path: '/server/journal', message: "must be one of 'at-yield', 'per-step'" })
  })

  it('reconciliation: a bad policy and a bad interval are named by path', () => {
    const d = baseDoc()
    d.reconciliation = { interval: 'hourly' }
    plants(d).P100!.reconciliation = { policy: 'fix' }
    expect(paths(problemsOf(tmp, d)).sort()).toEqual([
      '/plants/P100/reconciliation/policy',
      '/reconciliation/interval',
    ])
  })

  it('a webhook source must be signed unless it says unsigned: true, and not both', () => {
    const d = baseDoc()
    const hooks = (d.ingress as { webhooks: Record<string, Doc> }).webhooks
    delete hooks['erp-p100']!.secrets
    expect(paths(problemsOf(tmp, d))).toEqual(['/ingress/webhooks/erp-p100/secrets'])
    hooks['erp-p100']!.unsigned = true
    expect(() => loadConfig(tmp.write('qualink.yaml', d), {})).not.toThrow()
    hooks['erp-p100']!.secrets = [{ secretEnv: 'ERP_SECRET' }]
    expect(paths(problemsOf(tmp, d))).toEqual(['/ingress/webhooks/erp-p100/unsigned'])
  })

  it('unknown connector reference and a connector of the wrong kind', () => {
    const d = baseDoc()
    plants(d).P200!.erp = 'x'
    plants(d).P100!.qms = 'sap-p100'
    expect(problemsOf(tmp, d)).toEqual([
      { path: '/plants/P100/qms', message: "connector 'sap-p100' is erp/sap-s4, not a qms connector" },
      { path: '/plants/P200/erp', message: "references unknown connector 'x'" },
    ])
  })

  it('literal secrets are refused wherever they are, references are not', () => {
    const d = baseDoc()
    const hooks = (d.ingress as { webhooks: Record<string, Doc> }).webhooks
    hooks['erp-p100']!.secrets = ['hunter2']
    connectors(d)['sap-p100']!.config.auth = { username: 'RFC', password: 'hunter2' }
    d.server = { databaseUrl: 'postgres://qualink:hunter2@db:5432/qualink' }
    const ps = problemsOf(tmp, d)
    expect(ps).toContainEqual({
      path: '/ingress/webhooks/erp-p100/secrets/0',
      message: expect.stringContaining('literal secret refused'),
    })
    expect(ps).toContainEqual({
      path: '/connectors/sap-p100/config/auth/password',
      message: expect.stringContaining('literal secret refused'),
    })
    expect(ps).toContainEqual({
      path: '/server/databaseUrl',
      message: expect.stringContaining('embedded password'),
    })
    // the connector's own schema also says what it wanted instead
    expect(ps).toContainEqual({
      path: '/connectors/sap-p100/config/auth/passwordEnv',
      message: 'is required',
    })
  })

  it('unknown keys are refused at every level, with the key in the path', () => {
    const d = baseDoc()
    plants(d).P100!.samplng = {}
    d.workflow = {}
    ;(d.workflows as Doc)['supplier-receipt-inspectoin'] = { enabled: true }
    connectors(d)['qms-cloud']!.config.apiKey = 'abc'
    const ps = problemsOf(tmp, d)
    expect(paths(ps)).toEqual(
      expect.arrayContaining([
        '/plants/P100/samplng',
        '/workflow',
        '/workflows/supplier-receipt-inspectoin',
        '/connectors/qms-cloud/config/apiKey',
      ]),
    )
    expect(ps.find((p) => p.path === '/workflow')!.message).toBe('unknown key')
  })

  it("a connector's config is checked by that connector's own schema", () => {
    const d = baseDoc()
    connectors(d)['sap-p100']!.config.baseUrl = 'ftp://s4/path'
    delete connectors(d)['erpnext-p200']!.config.warehouses
    expect(problemsOf(tmp, d)).toEqual([
      { path: '/connectors/sap-p100/config/baseUrl', message: 'must match ^https?://[^/]+$' },
      { path: '/connectors/erpnext-p200/config/warehouses', message: 'is required' },
    ])
  })

  it('a connector target outside its allowlist, and a malformed allowlist entry', () => {
    const d = baseDoc()
    const allow = (d.egress as { allowlist: Record<string, string[]> }).allowlist
    allow['sap-p100'] = ['https://s4.plant-a.example']
    allow['qms-cloud'] = ['https://qms.example/api']
    allow.ghost = ['https://ghost.example']
    const ps = problemsOf(tmp, d)
    expect(ps).toContainEqual({
      path: '/connectors/sap-p100/config/baseUrl',
      message: expect.stringContaining('https://s4.plant-a.example:44300 is not on the egress allowlist'),
    })
    expect(ps).toContainEqual({
      path: '/egress/allowlist/qms-cloud/0',
      message: expect.stringContaining('must be scheme://host[:port] only'),
    })
    expect(ps).toContainEqual({
      path: '/egress/allowlist/ghost',
      message: "references unknown connector 'ghost'",
    })
  })

  it('ingress and workflow references: unknown plant, wrong source, bad settings attributed to their layer', () => {
    const d = baseDoc()
    const drops = (d.ingress as { fileDrops: Record<string, Doc> }).fileDrops
    drops['lims-p200']!.plant = 'P300'
    plants(d).P100!.mes = 'erp-p100'
    d.workflows = {
      'supplier-receipt-inspection': {
        defaults: { maxEscalations: 0 },
        plants: { P100: { decisionDeadline: 'soon' }, P9: {} },
      },
    }
    expect(problemsOf(tmp, d)).toEqual([
      { path: '/ingress/fileDrops/lims-p200/plant', message: "references unknown plant 'P300'" },
      { path: '/plants/P100/mes', message: "ingress source 'erp-p100' is not a mes source" },
      { path: '/plants/P200/lims', message: "ingress source 'lims-p200' belongs to plant 'P300'" },
      { path: '/workflows/supplier-receipt-inspection/plants/P9', message: "references unknown plant 'P9'" },
      {
        path: '/workflows/supplier-receipt-inspection/plants/P100/decisionDeadline',
        message: 'must match ^\\d+(\\.\\d+)?(ms|s|m|h|d)$',
      },
      { path: '/workflows/supplier-receipt-inspection/defaults/maxEscalations', message: 'must be >= 1' },
    ])
  })

  it('lists every problem of a file in one error', () => {
    const d = baseDoc()
    plants(d).P100!.sampling.default.level = 'IV'
    plants(d).P200!.erp = 'nope'
    connectors(d)['qms-cloud']!.config.baseUrl = 'qms'
    d.extra = true
    expect(paths(problemsOf(tmp, d)).sort()).toEqual([
      '/connectors/qms-cloud/config/baseUrl',
      '/extra',
      '/plants/P100/sampling/default/level',
      '/plants/P200/erp',
    ])
  })

  it('YAML errors point at the line; a non-mapping file is refused', () => {
    expect(problemsOf(tmp, 'version: 1\nplants: {\n  P100: [\n')[0]!.path).toMatch(/qualink\.yaml:\d+:\d+$/)
    expect(problemsOf(tmp, '- a\n- b\n')[0]!.message).toBe('must be a YAML mapping at the top level')
    expect(problemsOf(tmp, 'version: 1\nversion: 2\nplants: {}\n')[0]!.message).toMatch(/unique/i)
  })
})

describe('environment overlays', () => {
  it('qualink.<env>.yaml is deep-merged over qualink.yaml: the overlay wins, arrays replace, null removes', () => {
    const base = tmp.write('qualink.yaml', baseDoc())
    tmp.write('qualink.prod.yaml', {
      connectors: { 'sap-p100': { config: { baseUrl: 'https://s4-prod.plant-a.example' } } },
      egress: { allowlist: { 'sap-p100': ['https://s4-prod.plant-a.example'] } },
      plants: { P100: { sampling: { default: { aql: '0.65' } } }, P200: { lims: null } },
      server: { port: 8443 },
    })
    const prod = loadConfig(base, { QUALINK_ENV: 'prod' })
    expect(prod.files.map((f) => f.split('/').pop())).toEqual(['qualink.yaml', 'qualink.prod.yaml'])
    expect(prod.environment).toBe('prod')
    const c = prod.config
    expect(c.connectors?.['sap-p100']?.config.baseUrl).toBe('https://s4-prod.plant-a.example')
    expect(c.egress?.allowlist['sap-p100']).toEqual(['https://s4-prod.plant-a.example'])
    expect(c.plants.P100?.sampling?.default).toEqual({ level: 'II', aql: '0.65', severity: 'normal' })
    expect(c.plants.P200?.lims).toBeUndefined()
    expect(c.plants.P200?.erp).toBe('erpnext-p200')
    expect(c.server?.port).toBe(8443)
    // without QUALINK_ENV, or another environment without a file, the base alone
    expect(loadConfig(base, {}).config.connectors?.['sap-p100']?.config.baseUrl).toBe(
      'https://s4.plant-a.example:44300',
    )
    expect(loadConfig(base, { QUALINK_ENV: 'dev' }).files).toHaveLength(1)
  })

  it('an overlay that breaks the file is reported against the merged paths; a bad QUALINK_ENV is refused', () => {
    const base = tmp.write('qualink.yaml', baseDoc())
    tmp.write('qualink.test.yaml', {
      connectors: { 'sap-p100': { config: { baseUrl: 'https://elsewhere' } } },
    })
    expect(() => loadConfig(base, { QUALINK_ENV: 'test' })).toThrow(
      expect.objectContaining({
        errors: [expect.objectContaining({ path: '/connectors/sap-p100/config/baseUrl' })],
      }),
    )
    expect(() => loadConfig(base, { QUALINK_ENV: 'staging' })).toThrow(
      expect.objectContaining({
        errors: [{ path: 'QUALINK_ENV', message: 'must be one of dev, test, prod' }],
      }),
    )
  })
})
