/**
 * A private RabbitMQ node for fault tests that stop the broker: its own node name, AMQP port,
 * Erlang distribution port, epmd (on a port of its own, started here and stopped here), data and
 * log folders, config file (no listener of the shared broker's /etc/rabbitmq/rabbitmq.conf) and
 * Erlang cookie (HOME is its folder). The shared broker on 5672, its epmd on 4369 and its cookie
 * are never touched.
 *
 * Started through /usr/lib/rabbitmq/bin/rabbitmq-server, not /usr/sbin/rabbitmq-server: the latter
 * is Debian's wrapper that switches to the rabbitmq user and its HOME (and so to the shared node's
 * cookie). Environment variables as documented at rabbitmq.com/docs/configure#supported-environment-variables
 * (RABBITMQ_NODENAME, RABBITMQ_NODE_PORT, RABBITMQ_DIST_PORT, RABBITMQ_MNESIA_BASE,
 * RABBITMQ_LOG_BASE, RABBITMQ_CONFIG_FILE, RABBITMQ_ENABLED_PLUGINS_FILE, RABBITMQ_CONF_ENV_FILE)
 * and ERL_EPMD_PORT, which both epmd and the Erlang node read.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
const EPMD = '/usr/bin/epmd'

export function privateRabbitMissing(): string | undefined {
  if (!existsSync(RABBITMQ_SERVER)) return `no ${RABBITMQ_SERVER} (apt-get install rabbitmq-server)`
  if (!existsSync(EPMD)) return `no ${EPMD} (erlang-base)`
  return undefined
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export class PrivateRabbit {
  private server: ChildProcess | undefined
  private epmd: ChildProcess | undefined

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly epmdPort: number,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`
  }

  static async start(): Promise<PrivateRabbit> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-rabbit-'))
    const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()]
    writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`)
    writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n')
    writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '')
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_NODENAME: `qlk${process.pid}x${port}@localhost`,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
      RABBITMQ_SERVER_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    }
    const r = new PrivateRabbit(dir, port, env, epmdPort)
    // Our own epmd in the foreground: the node finds it on ERL_EPMD_PORT and starts none itself.
    r.epmd = spawn(EPMD, ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' })
    await until(() => portOpen(epmdPort), 10_000)
    await r.boot()
    return r
  }

  /** Starts the node (again, on the same data) and waits until it accepts AMQP connections. */
  async boot(): Promise<void> {
    this.server = spawn(RABBITMQ_SERVER, [], { env: this.env, stdio: 'ignore' })
    await until(() => portOpen(this.port), 60_000)
  }

  private beamPid(): number | undefined {
    const file = this.env.RABBITMQ_PID_FILE!
    if (!existsSync(file)) return undefined
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  }

  /**
   * Stops the node: SIGKILL (a crash: nothing flushed that was not already) or SIGTERM (an
   * orderly shutdown); returns when the process is gone and the port closed.
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const pid = this.beamPid()
    if (pid !== undefined && alive(pid)) process.kill(pid, signal)
    await until(async () => (pid === undefined || !alive(pid)) && !(await portOpen(this.port)), 60_000)
    if (this.server && this.server.exitCode === null) await new Promise((r) => this.server!.once('exit', r))
    this.server = undefined
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM').catch(() => {})
    this.epmd?.kill('SIGTERM')
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** for a failing test's message */
  describe(): string {
    return `private RabbitMQ ${this.env.RABBITMQ_NODENAME} amqp:${this.port} epmd:${this.epmdPort} in ${this.dir}`
  }
}
