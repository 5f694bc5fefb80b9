import { QualinkError } from '../contracts/errors.ts'
import { latestTypeOf, upcastToLatest } from '../contracts/upcast.ts'
import type { Router, RouteTarget } from '../store/engine-types.ts'
import type { AppendEvent } from '../store/types.ts'
import type { WorkflowDefinition } from './workflow.ts'

// biome-ignore lint/suspicious/noExplicitAny: definitions of different port/config types live side by side
type AnyWorkflow = WorkflowDefinition<any, any>

/** Registered workflow versions: routes trigger events and resolves which code executes a run. */
export class WorkflowRegistry {
  private readonly byName = new Map<string, AnyWorkflow[]>()

  constructor(defs: readonly AnyWorkflow[]) {
    for (const d of defs) {
      const list = this.byName.get(d.name) ?? []
      if (list.some((x) => x.version === d.version))
        throw new Error(`workflow ${d.name} v${d.version} registered twice`)
      list.push(d)
      list.sort((a, b) => b.version - a.version)
      this.byName.set(d.name, list)
    }
  }

  latest(name: string): AnyWorkflow | undefined {
    return this.byName.get(name)?.[0]
  }

  /**
   * The code that executes a run started on `version`: the newest registered version that is
   * that version or declares itself compatible with it, so a fix reaches in-flight runs and replays.
   */
  resolve(name: string, version: number): AnyWorkflow | undefined {
    return this.byName.get(name)?.find((d) => d.version === version || d.compatibleWith?.includes(version))
  }

  /** Refuses to run against runs whose version no registered code can execute. */
  assertExecutable(active: ReadonlyArray<{ workflow: string; version: number }>): void {
    const missing = active.filter((a) => !this.resolve(a.workflow, a.version))
    if (missing.length > 0) {
      throw new QualinkError(
        'QLK_CONFIG_INVALID',
        `active runs need workflow versions this code does not register: ${missing
          .map((m) => `${m.workflow} v${m.version}`)
          .join(', ')}; deploy a version compatible with them before starting`,
      )
    }
  }

  router(): Router {
    const byType = new Map<string, AnyWorkflow[]>()
    for (const list of this.byName.values()) {
      const newest = list[0]!
      for (const t of newest.triggers) byType.set(t, [...(byType.get(t) ?? []), newest])
    }
    return (e: AppendEvent): RouteTarget[] => {
      // An older major reaches the workflows of its newest one, which see it upcast (DESIGN §6).
      const latest = latestTypeOf(e.type)
      const defs = [...new Set([...(byType.get(e.type) ?? []), ...(byType.get(latest) ?? [])])]
      if (defs.length === 0) return []
      const env = JSON.parse(e.envelopeJson) as { data: unknown }
      const up = latest === e.type ? { type: e.type, data: env.data } : upcastToLatest(e.type, env.data)
      const view = { type: up.type, subject: e.subject, plant: e.plant, data: up.data, id: e.id }
      return defs.map((d) => ({
        workflow: d.name,
        version: d.version,
        key: d.key(view),
        start: !d.startsOn || d.startsOn.includes(e.type) || d.startsOn.includes(latest),
      }))
    }
  }
}
