import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { EvidenceBundle } from '../../audit/evidence.ts'
import { type BundleCheck, verifyBundle } from '../../audit/evidence-verify.ts'
import type { TraceNode, TraceResult } from '../../projections/trace.ts'
import { api, DEFAULT_URL } from '../api-client.ts'
import { loadCipher } from './keys.ts'

/** Prints a trace as an indented tree: each lot under the lot it was reached from. */
function tree(t: TraceResult): string {
  const children = new Map<string, string[]>()
  const byLot = new Map<string, TraceNode>(t.nodes.map((n) => [n.lot, n]))
  for (const e of t.edges) {
    const [from, to] = t.direction === 'forward' ? [e.fromLot, e.toLot] : [e.toLot, e.fromLot]
    const a = byLot.get(from)
    const b = byLot.get(to)
    if (!a || !b || b.depth !== a.depth + 1) continue
    const list = children.get(from) ?? []
    if (!list.includes(to)) list.push(to)
    children.set(from, list)
  }
  const lines: string[] = []
  const seen = new Set<string>()
  const walk = (lot: string, indent: string) => {
    const n = byLot.get(lot)!
    const stock = Object.entries(n.stock)
      .filter(([, q]) => q.units !== 0)
      .map(([b, q]) => `${b} ${q.units / 10 ** q.scale} ${q.uom}`)
      .join(', ')
    lines.push(
      `${indent}${lot}  ${n.material ?? '?'}  [${n.plant}]${stock ? `  ${stock}` : ''}${seen.has(lot) ? '  (see above)' : ''}`,
    )
    if (seen.has(lot)) return
    seen.add(lot)
    for (const c of (children.get(lot) ?? []).sort()) walk(c, `${indent}  `)
  }
  if (byLot.has(t.root)) walk(t.root, '')
  else {
    // A later page: its lots hang under lots listed on earlier pages; start at each lot whose
    // parent is not on this page, shallowest first.
    lines.push(`(continues the trace of ${t.root})`)
    const reached = new Set([...children.values()].flat())
    const starts = t.nodes
      .filter((n) => !reached.has(n.lot))
      .sort((a, b) => a.depth - b.depth || (a.lot < b.lot ? -1 : a.lot > b.lot ? 1 : 0))
    for (const n of starts) walk(n.lot, `${'  '.repeat(n.depth)}`)
  }
  const atLeast = t.exactCounts ? '' : 'at least '
  if (t.outOfScope.lots > 0)
    lines.push(
      `… and ${atLeast}${t.outOfScope.lots} lot(s) in other plants (${t.outOfScope.plants.join(', ')})`,
    )
  if (t.nextCursor)
    lines.push(`… ${atLeast}${t.total - t.nodes.length} more lot(s): page with --cursor ${t.nextCursor}`)
  return lines.join('\n')
}

export function registerLotCommands(program: Command): void {
  program
    .command('trace <lot>')
    .description('genealogy of a lot as a tree (through the API of a running Qualink)')
    .option('--direction <d>', 'backward (to suppliers) or forward (to customers)', 'backward')
    .option('--depth <n>', 'levels to follow', '10')
    .option('--cursor <n>', 'page position from a previous answer')
    .option('--limit <n>', 'lots per page', '1000')
    .option('--json', 'print the API answer')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(
      async (
        lot: string,
        o: { direction: string; depth: string; cursor?: string; limit: string; json?: boolean; url: string },
      ) => {
        const q = new URLSearchParams({
          direction: o.direction,
          depth: o.depth,
          limit: o.limit,
          ...(o.cursor ? { cursor: o.cursor } : {}),
        })
        const t = await api<TraceResult>(o, 'GET', `/v1/lots/${encodeURIComponent(lot)}/trace?${q}`)
        console.log(o.json ? JSON.stringify(t, null, 2) : tree(t))
      },
    )

  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit')
  audit
    .command('export')
    .description(
      'write the evidence bundle of a lot, sealed (marked fields stay encrypted); verify it offline with: qualink audit verify-bundle <file>',
    )
    .requiredOption('--lot <lot>', 'the lot')
    .option('--out <file>', 'output file', '')
    .option(
      '--plaintext',
      'marked fields decrypted (the server audits the export as evidence.exported_plaintext)',
    )
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (o: { lot: string; out: string; plaintext?: boolean; url: string }) => {
      // always sealed unless asked: without encryption on the server the two are the same file
      const b = await api<EvidenceBundle>(
        o,
        'GET',
        `/v1/lots/${encodeURIComponent(o.lot)}/evidence?sealed=${o.plaintext ? 'false' : 'true'}`,
      )
      const file = o.out || `evidence-${o.lot}.json`
      writeFileSync(file, JSON.stringify(b, null, 2))
      console.log(
        `${file}: ${b.events.length} events, ${b.runs.length} runs, ${b.signatures.length} signatures` +
          `${b.massReleases?.length ? ` (${b.massReleases.length} mass releases)` : ''}, ${b.audit.length} audit entries, ` +
          `${b.chain.length} chain links${b.anchor ? `, anchored at link ${b.anchor.pos}` : ', not anchored yet'}` +
          (o.plaintext ? '; PLAINTEXT: marked fields are in clear in this file' : ''),
      )
    })
  audit
    .command('verify-bundle <file>')
    .description(
      'verify an evidence bundle offline: needs only the file (and, for encrypted fields, --keys), no server or database',
    )
    .option('--keys', 'decrypt sealed fields in memory with the keys of security.encryption in --config')
    .option('--config <path>', 'qualink.yaml whose security.encryption names the keys', './qualink.yaml')
    .action((file: string, o: { keys?: boolean; config: string }) => {
      const bundle = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle
      const cipher = o.keys ? loadCipher(o.config).cipher : undefined
      const r = verifyBundle(bundle, cipher ? { decrypt: (v) => cipher.decryptDeep(v) } : {})
      console.log(r.ok ? `evidence OK: ${summary(r)}` : `evidence BROKEN:\n- ${r.problems.join('\n- ')}`)
      if (r.notChecked.length > 0)
        console.log(
          `${r.notChecked.length} not checkable without the keys (verify with --keys):\n- ${r.notChecked.join('\n- ')}`,
        )
      process.exitCode = r.ok ? 0 : 1
    })
}

function summary(r: BundleCheck): string {
  const c = r.checked
  return (
    `${c.entries} audit entries, ${c.links} chain links, ${c.events} events, ${c.signatures.bound} signatures bound to their records` +
    `${c.signatures.earlier ? ` (${c.signatures.earlier} on earlier versions)` : ''}` +
    `${c.massReleases ? `, ${c.massReleases} mass release selections hashed to the version signed` : ''}` +
    `${c.anchored ? ', anchored' : ', not anchored'}` +
    `${c.unchecked ? `; ${c.unchecked} parts NOT CHECKED (encrypted, no keys given)` : ''}`
  )
}
