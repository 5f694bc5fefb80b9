import type { Command } from 'commander'
import { formatDecimal } from '../../model/quantity.ts'
import type { SupplierScorecard } from '../../projections/supplier-scorecard.ts'
import { api, DEFAULT_URL, table } from '../api-client.ts'

/** The scorecard as text: per plant its status and open CAPAs, then one line per material. */
export function scorecardText(card: SupplierScorecard): string {
  const out: string[] = [`Supplier ${card.supplier}`]
  for (const p of card.plants) {
    out.push('', `Plant ${p.plant}: ${p.qualityStatus}`)
    for (const c of p.openCapas) out.push(`  open CAPA ${c.capa} since ${c.openedAt}: ${c.title}`)
    if (p.materials.length === 0) {
      out.push('  no lots received')
      continue
    }
    const rows = p.materials.map((m) => ({
      material: m.material,
      received: m.lotsReceived,
      accepted: m.lotsAccepted,
      rejected: m.lotsRejected,
      ppm: m.ppm ?? '—',
      'rejected qty': m.rejected ? `${formatDecimal(m.rejected)} ${m.rejected.uom}` : '—',
      'last decision': m.lastDecision
        ? `${m.lastDecision.code} ${m.lastDecision.valuation} (${m.lastDecision.lot}, ${m.lastDecision.at})`
        : '—',
    }))
    out.push(
      table(rows, ['material', 'received', 'accepted', 'rejected', 'ppm', 'rejected qty', 'last decision'])
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    )
  }
  return out.join('\n')
}

export function registerSupplierCommands(program: Command): void {
  const suppliers = program
    .command('suppliers')
    .description('supplier quality (through the API of a running Qualink)')
  suppliers
    .command('scorecard <supplier>')
    .description(
      'lots received/accepted/rejected, ppm, last decision, open CAPAs and status per plant and material',
    )
    .option('--json', 'print the API answer')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (supplier: string, o: { json?: boolean; url: string }) => {
      const card = await api<SupplierScorecard>(
        o,
        'GET',
        `/v1/suppliers/${encodeURIComponent(supplier)}/scorecard`,
      )
      console.log(o.json ? JSON.stringify(card, null, 2) : scorecardText(card))
    })
}
