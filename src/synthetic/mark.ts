/**
 * Events about a plant's designated test materials (plants.<code>.synthetic.materials) are
 * synthetic by definition: the translation stage marks them with the CloudEvents extension
 * `qualinksynthetic: true`, so the outcome KPIs and business metrics can leave them out
 * (src/observability/kpis-queries.ts, business-queries.ts). A synthetic run's test receipt that
 * reaches a running Qualink through the ERP's webhook or feed is one of these.
 */
import type { CloudEvent } from '../contracts/envelope.ts'
import type { Translator } from '../engine/translation-stage.ts'

export const SYNTHETIC_EXTENSION = 'qualinksynthetic'
/** `LIKE` pattern matching an envelope that carries the extension (JSON text on both dialects). */
export const SYNTHETIC_ENVELOPE_LIKE = `%"${SYNTHETIC_EXTENSION}"%`

/** plant → its designated test materials */
export function testMaterials(
  plants: Readonly<Record<string, { readonly synthetic?: { readonly materials: readonly string[] } }>>,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const [plant, p] of Object.entries(plants))
    if (p.synthetic?.materials.length) out.set(plant, new Set(p.synthetic.materials))
  return out
}

/** Every string under a key named `material` in the event's data, two levels of arrays/objects deep. */
function materialsOf(data: unknown, depth = 0, out: string[] = []): string[] {
  if (depth > 3 || data === null || typeof data !== 'object') return out
  for (const [k, v] of Object.entries(data)) {
    if (k === 'material' && typeof v === 'string') out.push(v)
    else materialsOf(v, depth + 1, out)
  }
  return out
}

export function isSynthetic(e: CloudEvent): boolean {
  return (e as Record<string, unknown>)[SYNTHETIC_EXTENSION] === true
}

/** The translators, each marking the events it produces about a test material of their plant. */
export function markSyntheticEvents(
  translators: readonly Translator[],
  materials: ReadonlyMap<string, ReadonlySet<string>>,
): Translator[] {
  if (materials.size === 0) return [...translators]
  const mark = (e: CloudEvent): CloudEvent => {
    const test = materials.get(String((e as { plant?: unknown }).plant))
    return test && materialsOf(e.data).some((m) => test.has(m))
      ? ({ ...e, [SYNTHETIC_EXTENSION]: true } as CloudEvent)
      : e
  }
  return translators.map((t) => ({
    ...t,
    source: t.source,
    translate: async (raw, xref) => (await t.translate(raw, xref)).map(mark),
  }))
}
