import type { ReceiptInspectionSettings } from '../supplier-receipt-inspection.ts'

/**
 * The sampling settings for a material: its material group's (qualink.yaml
 * `plants.<p>.sampling.materials` names the group, `sampling.materialGroups.<group>` its
 * settings), else the plant's default. Read from the run's configuration snapshot, so a replay
 * and a resize of the same run use the same settings.
 */
export function samplingFor(
  settings: ReceiptInspectionSettings,
  material: string,
): ReceiptInspectionSettings['sampling'] & { readonly group?: string } {
  const group = settings.materialGroupOf?.[material]
  const own = group === undefined ? undefined : settings.materialGroups?.[group]
  return own ? { ...own, group } : settings.sampling
}
