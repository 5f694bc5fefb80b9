/**
 * MesPort: what workflows send to a MES. Today only inspection specifications, so the MES
 * inspects against the same revision as the QMS (issue 8 item 5c).
 */
import type { InspectionSpecification } from '../../model/inspection.ts'

export interface MesPort {
  /**
   * Publishes the specification as the current one for its scope (material, route, supplier). A
   * state, not a message to count: publishing the same version again changes nothing.
   */
  publishSpecification(input: {
    readonly idempotencyKey: string
    readonly spec: InspectionSpecification
  }): Promise<{ readonly topic: string }>
  /**
   * Whether specifications of `plant` go to a MES here (a plant-routed port serves only the plants
   * configured with a `mesPublisher`). Absent: every plant.
   */
  serves?(plant: string): boolean
}
