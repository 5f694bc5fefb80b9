/**
 * What the schema alone cannot say: references between sections (a plant's ERP names a
 * connector of kind erp/…), each connector's config against its own schema, its targets against
 * the admin-owned allowlist, and each workflow's merged per-plant settings against the
 * workflow's schema. Written over the raw document so that one run reports every problem, even
 * where the schema already found others.
 */
import type { FieldProblem } from '../contracts/errors.ts'
import { encryptionProblems } from '../security/encryption-config.ts'
import { retentionDocProblems } from '../security/retention.ts'
import { entries, isObject } from './check-doc.ts'
import { checkPlants } from './check-plants.ts'
import { checkConnectors, checkSources } from './check-sources.ts'
import { checkSlos, checkWorkflows } from './check-workflows.ts'
import { seg, unique } from './problems.ts'

export { deepMerge } from './check-doc.ts'
export { FEED_CONNECTOR_KINDS } from './check-sources.ts'
export { workflowSettings } from './check-workflows.ts'

/** Every cross-section problem of a (merged) document. */
export function semanticProblems(doc: unknown): FieldProblem[] {
  if (!isObject(doc)) return []
  const out: FieldProblem[] = []
  const plants = isObject(doc.plants) ? doc.plants : {}
  checkConnectors(doc, out)
  const sources = checkSources(doc, plants, out)
  for (const [name, c] of entries(doc.connectors))
    if (isObject(c.config) && isObject(c.config.inbound) && sources.has(name))
      out.push({
        path: `/connectors/${seg(name)}/config/inbound`,
        message: `its raw deliveries are stored as source '${name}', which ingress.${sources.get(name)!.section} also names`,
      })
  checkPlants(doc, plants, sources, out)
  checkWorkflows(doc, plants, out)
  checkSlos(doc, plants, out)
  out.push(...encryptionProblems(isObject(doc.security) ? doc.security.encryption : undefined))
  out.push(...retentionDocProblems(doc.retention, Object.keys(plants)))
  return unique(out)
}
