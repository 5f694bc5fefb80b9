import { readFileSync } from 'node:fs'
import net from 'node:net'

/**
 * Where the kernel draws ephemeral ports from (outgoing connections and listen(0)): the lower bound
 * of /proc/sys/net/ipv4/ip_local_port_range, 32768 when it cannot be read.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 12_000 ? low : 32_768
  } catch {
    return 32_768
  }
}
const PORT_HIGH = ephemeralLow() - 1
const PORT_LOW = PORT_HIGH - 10_000

/**
 * A free loopback port, for a server that must be known before it starts (or a private instance).
 * Drawn at random BELOW the ephemeral range and checked by binding it: a port the kernel handed
 * out with listen(0) is one it hands out again to the next outgoing connection, and a child
 * process that takes seconds to start (the demo CLI) lost its port that way to the suite's own
 * connections (CI: EADDRINUSE on 43603). Below the range only another freePort can draw it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW))
    const s = net.createServer()
    const bound = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (bound) {
      await new Promise((r) => s.close(r))
      return port
    }
    if (attempt >= 100) throw new Error(`freePort: no free port in ${PORT_LOW}-${PORT_HIGH} after 100 draws`)
  }
}
