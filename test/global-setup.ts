import { checkServices } from './services.ts'

/**
 * Probes the local services once per `npm test`. With CI=true every service a suite needs is
 * required: an unreachable one fails the run here, before any suite can skip it.
 */
export default async function setup(): Promise<void> {
  const report = await checkServices()
  const down = report.filter((s) => !s.up)
  if (down.length === 0) return
  const names = down.map((s) => `${s.name} (${s.address})`).join(', ')
  if (process.env.CI === 'true') {
    throw new Error(`CI=true and these services are unreachable: ${names}. .ci/run must start them.`)
  }
  console.warn(`\n*** NOTICE: services unreachable, their suites will be SKIPPED: ${names} ***\n`)
}
