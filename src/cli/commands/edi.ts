import type { Command } from 'commander'
import type { EdiOutbound } from '../../store/edi-outbound.ts'
import { api, DEFAULT_URL, table } from '../api-client.ts'

/** One line per sent group: partner, control number, lot, status and the 997's codes. */
export function outboundText(list: readonly EdiOutbound[]): string {
  if (list.length === 0) return 'no interchanges'
  const rows = list.map((r) => ({
    plant: r.plant,
    partner: r.partner,
    set: r.transactionSet,
    control: r.interchangeControl,
    lot: r.subject ?? '—',
    sent: new Date(r.sentAtMs).toISOString(),
    status: r.status,
    codes: r.ackCodes ?? '—',
  }))
  return table(rows, ['plant', 'partner', 'set', 'control', 'lot', 'sent', 'status', 'codes'])
}

export function registerEdiCommands(program: Command): void {
  const edi = program
    .command('edi')
    .description('EDI X12 trading partners (through the API of a running Qualink)')
  edi
    .command('outbound')
    .description('861s sent to partners and their 997: pending, overdue, accepted, partial, rejected')
    .option('--status <status>', 'only this status (pending, overdue, accepted, partial, rejected)')
    .option('--partner <partner>', 'only this trading partner (its supplier id)')
    .option('--json', 'print the API answer')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (o: { status?: string; partner?: string; json?: boolean; url: string }) => {
      const q = new URLSearchParams()
      if (o.status) q.set('status', o.status)
      if (o.partner) q.set('partner', o.partner)
      const r = await api<{ interchanges: EdiOutbound[] }>(
        o,
        'GET',
        `/v1/edi/outbound${q.size ? `?${q}` : ''}`,
      )
      console.log(o.json ? JSON.stringify(r, null, 2) : outboundText(r.interchanges))
    })
}
