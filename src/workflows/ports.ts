/**
 * Ports: the interfaces workflows use to reach other systems. Connectors implement them; a
 * workflow never imports a concrete connector (DESIGN §4).
 */

/** A document ledger that, like a real ERP, does not deduplicate: idempotency is ours to keep. */
export interface LedgerPort {
  /** documents whose reference field carries `ref`, read back before any (re)post */
  findByReference(ref: string): Promise<Array<{ id: string }>>
  post(doc: { ref: string; key: string; line: number }): Promise<{ id: string }>
}

export interface KernelDemoPorts {
  readonly ledger: LedgerPort
}
