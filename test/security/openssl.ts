import { execFileSync } from 'node:child_process'

/**
 * Runs the `openssl` command in `dir`. Its environment leaves out OPENSSL_CONF when that reads
 * "undefined": node-opcua-crypto (used by the OPC UA connector) sets OPENSSL_CONF around a call
 * and restores it by assignment, which turns an unset variable into the string "undefined"
 * (node_modules/node-opcua-crypto/dist, `process.env.OPENSSL_CONF = backup`). Test files share a
 * process (vitest `isolate: false`), so a file run after an OPC UA test would otherwise make
 * openssl look for a configuration file named "undefined".
 */
export function openssl(dir: string, args: readonly string[]): Buffer {
  const env = { ...process.env }
  if (env.OPENSSL_CONF === 'undefined') delete env.OPENSSL_CONF
  return execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env })
}
