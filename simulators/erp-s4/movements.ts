/**
 * Movement types and stock types → ledger buckets. Movement types after quality-domain.md §1.4/§1.5
 * (321, 349/350 [V]; 553, 331, 122 [S]). InventoryStockType '01' unrestricted and '02' QI are [S];
 * '07' for blocked is this simulator's choice (the reference marks it [U]).
 */
import type { Bucket, Place } from '../shared/stock-ledger.ts'
import type { UdBucket } from './model.ts'

export const STOCK_TYPE_TO_BUCKET: Record<string, Bucket> = {
  '01': 'unrestricted',
  '02': 'qi',
  '07': 'blocked',
}
export const BUCKET_TO_STOCK_TYPE: Partial<Record<Bucket, string>> = {
  unrestricted: '01',
  qi: '02',
  blocked: '07',
  // Reserves sit in blocked stock of a reserves storage location in SAP (350 to a blocked sloc).
  reserves: '07',
}

type Kind = 'receipt' | 'issue' | 'transfer' | 'return'

interface MovementRule {
  readonly kind: Kind
  /** null: taken from the item's stock type (receipts: destination, returns: source). */
  readonly from: Bucket | null | 'external'
  readonly to: Bucket | null | 'external'
  /** GoodsMovementCode values (BAPI GM_CODE) under which the type may be posted. */
  readonly codes: readonly string[]
}

export const MOVEMENT_TYPES: Record<string, MovementRule> = {
  '101': { kind: 'receipt', from: 'external', to: null, codes: ['01', '02'] },
  '501': { kind: 'receipt', from: 'external', to: null, codes: ['05'] },
  '122': { kind: 'return', from: null, to: 'returned', codes: ['01', '03'] },
  '201': { kind: 'issue', from: 'unrestricted', to: 'issued', codes: ['03'] },
  '261': { kind: 'issue', from: 'unrestricted', to: 'issued', codes: ['03'] },
  '601': { kind: 'issue', from: 'unrestricted', to: 'issued', codes: ['03'] },
  '309': { kind: 'transfer', from: null, to: null, codes: ['04'] },
  '321': { kind: 'transfer', from: 'qi', to: 'unrestricted', codes: ['04'] },
  '322': { kind: 'transfer', from: 'unrestricted', to: 'qi', codes: ['04'] },
  '331': { kind: 'issue', from: 'qi', to: 'sample', codes: ['03'] },
  '333': { kind: 'issue', from: 'unrestricted', to: 'sample', codes: ['03'] },
  '343': { kind: 'transfer', from: 'blocked', to: 'unrestricted', codes: ['04'] },
  '344': { kind: 'transfer', from: 'unrestricted', to: 'blocked', codes: ['04'] },
  '349': { kind: 'transfer', from: 'blocked', to: 'qi', codes: ['04'] },
  '350': { kind: 'transfer', from: 'qi', to: 'blocked', codes: ['04'] },
  '551': { kind: 'issue', from: 'unrestricted', to: 'scrap', codes: ['03'] },
  '553': { kind: 'issue', from: 'qi', to: 'scrap', codes: ['03'] },
  '555': { kind: 'issue', from: 'blocked', to: 'scrap', codes: ['03'] },
}

export interface ResolvedMovement {
  readonly from: Place
  readonly to: Place
  readonly kind: Kind
}

export class MovementError extends Error {}

export function resolveMovement(
  movementType: string,
  code: string,
  stockType: string,
  receivingStockType: string,
  qmActive: boolean,
): ResolvedMovement {
  const rule = MOVEMENT_TYPES[movementType]
  if (!rule) throw new MovementError(`Movement type ${movementType} is not supported`)
  if (!rule.codes.includes(code)) {
    throw new MovementError(`Movement type ${movementType} not allowed with GoodsMovementCode ${code}`)
  }
  const typed = (t: string, what: string): Bucket => {
    const b = STOCK_TYPE_TO_BUCKET[t || '01']
    if (!b) throw new MovementError(`${what} ${t} is not a stock type (01, 02, 07)`)
    return b
  }
  if (rule.kind === 'receipt') {
    // QM-active materials go to QI stock whatever the item says, as SAP does for inspection type 01.
    return { kind: rule.kind, from: 'external', to: qmActive ? 'qi' : typed(stockType, 'InventoryStockType') }
  }
  if (rule.kind === 'return')
    return { kind: rule.kind, from: typed(stockType || '02', 'InventoryStockType'), to: 'returned' }
  if (movementType === '309') {
    const b = typed(stockType, 'InventoryStockType')
    return {
      kind: rule.kind,
      from: b,
      to: receivingStockType ? typed(receivingStockType, 'IssuingOrReceivingStockType') : b,
    }
  }
  return { kind: rule.kind, from: rule.from as Bucket, to: rule.to as Bucket }
}

/** Reversal movement type: 101→102, 322→321, and so on (SAP pairs them as n / n+1). */
export function reversalType(movementType: string): string {
  const n = Number(movementType)
  return String(n % 2 === 1 ? n + 1 : n - 1)
}

/**
 * `UsageDecisionStockType` values: VMENGE01–04 are [S] in quality-domain.md §1.4; 05–07 are this
 * simulator's assignment, documented in docs/simulators.md.
 */
export const UD_STOCK_TYPES: Record<string, { bucket: UdBucket; ledger: Bucket; movementType: string }> = {
  VMENGE01: { bucket: 'free', ledger: 'unrestricted', movementType: '321' },
  VMENGE02: { bucket: 'scrap', ledger: 'scrap', movementType: '553' },
  VMENGE03: { bucket: 'sample', ledger: 'sample', movementType: '331' },
  VMENGE04: { bucket: 'blocked', ledger: 'blocked', movementType: '350' },
  VMENGE05: { bucket: 'reserves', ledger: 'reserves', movementType: '350' },
  VMENGE06: { bucket: 'newMaterial', ledger: 'unrestricted', movementType: '309' },
  VMENGE07: { bucket: 'returned', ledger: 'returned', movementType: '122' },
}
