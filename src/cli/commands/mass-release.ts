import type { Command } from 'commander'
import { api, DEFAULT_URL, table } from '../api-client.ts'
import { readPassword } from './users.ts'

interface Lot {
  readonly lot: string
  readonly plant: string
  readonly decision?: { readonly code: string }
  readonly code?: string
  readonly reason?: string
}

interface Answer {
  readonly status?: 'awaiting-second-signature' | 'released'
  readonly version: string
  readonly eligible?: readonly Lot[]
  readonly refused: readonly Lot[]
  readonly unknown: number
  readonly released?: ReadonlyArray<{ lot: string; duplicate: boolean }>
  readonly signatures: ReadonlyArray<{ signer: string; printedName: string; meaning: string }>
}

function describe(a: Answer): string {
  const out: string[] = []
  if (a.eligible?.length)
    out.push(
      table(
        a.eligible.map((l) => ({ lot: l.lot, plant: l.plant, decision: l.decision?.code ?? '' })),
        ['lot', 'plant', 'decision'],
      ),
    )
  if (a.released?.length)
    out.push(`released: ${a.released.map((r) => `${r.lot}${r.duplicate ? ' (already)' : ''}`).join(', ')}`)
  for (const r of a.refused) out.push(`refused ${r.lot}: ${r.code} ${r.reason}`)
  if (a.unknown > 0) out.push(`${a.unknown} lot(s) not found in your plants`)
  out.push(
    `version ${a.version}; signed by: ${a.signatures.map((s) => `${s.printedName} (${s.signer}, ${s.meaning})`).join(', ') || 'nobody yet'}`,
  )
  if (a.status === 'awaiting-second-signature')
    out.push('released once a second, different approver signs the same version')
  return out.join('\n')
}

/**
 * `qualink mass-release <lots…>`: the API's mass release with the two-person rule. `--preview`
 * shows what would be released; with `--signer` the password is read from standard input (never
 * argv) and the first signature requests, a second person's releases.
 */
export function registerMassReleaseCommand(program: Command): void {
  program
    .command('mass-release <lots...>')
    .description(
      'release blocked lots after two different approvers sign (through the API; the password is read from standard input)',
    )
    .option('--preview', 'show what would be released and refused; signs nothing')
    .option('--signer <id>', 'your signer id (re-authenticates with your password)')
    .option('--version <hash>', 'the version the preview showed: refused when the selection changed since')
    .option('--json', 'print the API answer')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(
      async (
        lots: string[],
        o: { preview?: boolean; signer?: string; version?: string; json?: boolean; url: string },
      ) => {
        const a = o.preview
          ? await api<Answer>(o, 'POST', '/v1/lots/mass-release/preview', { lots })
          : await api<Answer>(o, 'POST', '/v1/lots/mass-release', {
              lots,
              ...(o.signer ? { signer: o.signer, password: await readPassword() } : {}),
              ...(o.version ? { version: o.version } : {}),
            })
        console.log(o.json ? JSON.stringify(a, null, 2) : describe(a))
      },
    )
}
