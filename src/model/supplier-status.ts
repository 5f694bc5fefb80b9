/**
 * A supplier's quality status in one plant, from its open supplier corrective actions and the
 * plant's policy (qualink.yaml `plants.<p>.supplierQuality.onCorrectiveAction`). One function,
 * so the supplier-quality workflow (what it sets in the ERP) and the scorecard (what it shows)
 * cannot disagree.
 *
 * `block-purchasing` models the supplier master's purchasing block: S/4HANA
 * API_BUSINESS_PARTNER `A_Supplier.PurchasingIsBlocked` (ECC: LFA1-SPERM), which stops new
 * purchase orders while goods already ordered can still be received.
 */
export const CAPA_POLICIES = ['block-purchasing', 'none'] as const
export type CapaPolicy = (typeof CAPA_POLICIES)[number]

export type SupplierQualityStatus = 'released' | 'purchasing-blocked'

export function supplierQualityStatus(openCapas: number, policy: CapaPolicy): SupplierQualityStatus {
  return openCapas > 0 && policy === 'block-purchasing' ? 'purchasing-blocked' : 'released'
}
