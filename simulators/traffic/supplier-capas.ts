import type { QmsSim } from '../qms/server.ts'

const STEPS = ['D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7'] as const

/**
 * The supplier quality engineer's corrective actions in the plant day: now and then a CAPA is
 * opened in the QMS against the supplier whose lots fail most (V-77), the supplier works it
 * through the 8D steps (one step per call of `work`), and the QMS closes it after D7. Everything
 * reaches Qualink as the QMS's own signed `capa.*` webhooks.
 */
export function supplierCapas(
  qms: QmsSim,
  supplier = 'V-77',
  resumed: ReadonlyArray<{ id: string; step: number }> = [],
) {
  const open: Array<{ id: string; step: number }> = resumed.map((c) => ({ ...c }))
  const call = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const r = await fetch(`${qms.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!r.ok) throw new Error(`QMS ${method} ${path}: ${r.status} ${await r.text()}`)
    return (await r.json()) as { id: string }
  }
  return {
    /** the CAPAs being worked and their next step, for a restarted demo to resume */
    get worked(): ReadonlyArray<{ id: string; step: number }> {
      return open
    },
    async open(title: string): Promise<void> {
      const c = await call('POST', '/capas', { title, supplier, type: 'CORRECTIVE' })
      open.push({ id: c.id, step: 0 })
    },
    /** moves every open CAPA one 8D step on; returns how many were closed */
    async work(): Promise<number> {
      let closed = 0
      for (const c of [...open]) {
        const step = STEPS[c.step]
        if (step) {
          await call('PATCH', `/capas/${c.id}`, {
            eightDStep: step,
            ...(step === 'D4' ? { rootCause: 'supplier furnace temperature drift' } : {}),
          })
          c.step++
        } else {
          await call('PATCH', `/capas/${c.id}`, { status: 'COMPLETED' })
          open.splice(open.indexOf(c), 1)
          closed++
        }
      }
      return closed
    },
  }
}
