import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { KernelMetrics } from './metrics.ts'

it('docs/metrics.md documents every metric the registry exports, with its type', async () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
  const documented = [...doc.matchAll(/^\| `(qualink_[a-z_]+)` \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]}`)
  const metrics = (await new KernelMetrics().registry.getMetricsAsJSON()).map((m) => `${m.name} ${m.type}`)
  expect(documented.sort()).toEqual(metrics.sort())
})
