/**
 * A small parser of the Prometheus text exposition format (version 0.0.4): every line must be a
 * `# HELP`, a `# TYPE`, blank, or a sample `name{label="value",…} value`; anything else throws,
 * so a scrape that parses here is well formed. Label values unescape \\, \" and \n.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Scrape {
  readonly samples: readonly Sample[]
  readonly types: ReadonlyMap<string, string>
  /** the sum of the samples of `name` whose labels include `labels` (0 when none) */
  value(name: string, labels?: Record<string, string>): number
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( -?\\d+)?$`)
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function number(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  const n = Number(text)
  if (!Number.isFinite(n)) throw new Error(`not a sample value: ${line}`)
  return n
}

function labels(text: string | undefined, line: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!text) return out
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text)
    if (!m) throw new Error(`malformed labels: ${line}`)
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    if (m[3] === '') break
  }
  return out
}

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (!m) throw new Error(`malformed comment: ${line}`)
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3]!)) throw new Error(`unknown type: ${line}`)
        types.set(m[2]!, m[3]!)
      }
      continue
    }
    const m = SAMPLE.exec(line)
    if (!m) throw new Error(`malformed sample: ${line}`)
    samples.push({ name: m[1]!, labels: labels(m[3], line), value: number(m[4]!, line) })
  }
  return {
    samples,
    types,
    value(name, want = {}) {
      return samples
        .filter((x) => x.name === name && Object.entries(want).every(([k, v]) => x.labels[k] === v))
        .reduce((a, x) => a + x.value, 0)
    },
  }
}
