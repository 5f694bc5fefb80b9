import net from 'node:net'

/** The local PostgreSQL service's admin database (test databases are created and dropped through it). */
export const PG_ADMIN_URL = process.env.QUALINK_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface ServiceProbe {
  readonly name: 'postgres' | 'nats' | 'rabbitmq' | 'mosquitto' | 'redis' | 'mariadb'
  readonly address: string
  readonly up: boolean
}

const SERVICES: ReadonlyArray<{ name: ServiceProbe['name']; host: string; port: number }> = [
  { name: 'postgres', host: '127.0.0.1', port: 5432 },
  { name: 'nats', host: '127.0.0.1', port: 4222 },
  { name: 'rabbitmq', host: '127.0.0.1', port: 5672 },
  { name: 'mosquitto', host: '127.0.0.1', port: 1883 },
]

function probe(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export async function checkServices(): Promise<ServiceProbe[]> {
  return Promise.all(
    SERVICES.map(async (s) => ({
      name: s.name,
      address: `${s.host}:${s.port}`,
      up: await probe(s.host, s.port),
    })),
  )
}

const cache = new Map<string, Promise<boolean>>()

/**
 * True when the named service answers. Suites use it with `describe.skipIf(!(await serviceUp('postgres')))`;
 * under CI=true the global setup has already failed the run if it does not.
 */
export function serviceUp(name: ServiceProbe['name']): Promise<boolean> {
  const s = SERVICES.find((x) => x.name === name)
  if (!s) throw new Error(`unknown service ${name}`)
  let p = cache.get(name)
  if (!p) {
    p = probe(s.host, s.port).then((up) => {
      if (!up)
        console.warn(`*** NOTICE: ${name} at ${s.host}:${s.port} unreachable: its suite is SKIPPED ***`)
      return up
    })
    cache.set(name, p)
  }
  return p
}

/** A name unique to this test run, safe for databases, streams, queues and client ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
}

export { freePort } from '../bench/lib/free-port.ts'
