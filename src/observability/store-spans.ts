import type { Store } from '../store/types.ts'
import { startSpan } from './tracing.ts'

/** OTel database semantic conventions' `db.system.name` values of our two dialects. */
const DB_SYSTEM: Record<Store['dialect'], string> = { sqlite: 'sqlite', postgres: 'postgresql' }

/** The parts of a Store whose calls are spanned under their part's name (`engine.claimTasks`). */
const PARTS = ['engine', 'ingress', 'genealogy', 'sql', 'rateLimits'] as const

/**
 * `SELECT`, `INSERT`, … of a statement: the standard-SQL executor's calls are named by what they
 * do, never by their text or parameters (which may carry business data).
 */
function verbOf(sql: unknown): string {
  const m = typeof sql === 'string' ? /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(sql) : null
  return m ? m[1]!.toUpperCase() : 'QUERY'
}

function spanned<T extends object>(target: T, system: string, part: string | undefined): T {
  return new Proxy(target, {
    get(t, key) {
      // the target as receiver: a getter reading a #private field must see its own object
      const value = Reflect.get(t, key)
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'close') return value
      return (...args: unknown[]) => {
        const method = part ? `${part}.${key}` : key
        const operation = part === 'sql' && key !== 'tx' ? `${method} ${verbOf(args[0])}` : method
        // One span per store call, which is one transaction or one statement batch; only inside a
        // trace, so the background loops' polls start none.
        const span = startSpan(`store ${operation}`, {
          kind: 'client',
          childOnly: true,
          attributes: { 'db.system.name': system, 'db.operation.name': operation },
        })
        let result: unknown
        try {
          result = value.apply(t, args)
        } catch (e) {
          span.fail(e)
          span.end()
          throw e
        }
        if (!(result instanceof Promise)) {
          span.end()
          return result
        }
        return result.then(
          (r) => {
            span.end()
            return r
          },
          (e: unknown) => {
            span.fail(e)
            span.end()
            throw e
          },
        )
      }
    },
  })
}

/**
 * The store with a client span per call made inside a trace (a request, a run attempt, a
 * translation): `store <part>.<method>` with the dialect (`db.system.name`) and the operation
 * (`db.operation.name`); the span's own duration is the call's. No SQL text or parameters are
 * recorded. A transaction the store runs for one call is one span; the statements inside it
 * are not spanned one by one.
 */
export function tracedStore(store: Store): Store {
  const system = DB_SYSTEM[store.dialect]
  const parts = new Map<PropertyKey, unknown>()
  for (const p of PARTS) {
    const part = store[p] as object | undefined
    if (part) parts.set(p, spanned(part, system, p))
  }
  const root = spanned(store, system, undefined)
  return new Proxy(root, {
    get(t, key) {
      return parts.has(key) ? parts.get(key) : Reflect.get(t, key)
    },
  })
}
