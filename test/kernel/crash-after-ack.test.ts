import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import readline from 'node:readline'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtureArgs } from '../bundle.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ping } from '../event-fixtures.ts'

async function spawnServer(db: TestDatabase): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    fixtureArgs('serve', db.dir, db.dialect === 'postgres' ? db.location : ''),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines = readline.createInterface({ input: child.stdout! })
  const [line] = (await once(lines, 'line')) as [string]
  return { child, url: JSON.parse(line).url }
}

describe.each(DIALECTS)('a process killed right after a 202 on %s', (dialect: Dialect) => {
  let db: TestDatabase

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
  })
  afterEach(async () => {
    await db?.cleanup()
  })

  it('keeps every acknowledged event', async () => {
    const { child, url } = await spawnServer(db)
    const acked: string[] = []
    // Concurrent posts so several share a group commit; SIGKILL the moment the last 202 arrives.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const e = ping()
        const r = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(e),
        })
        if (r.status === 202) acked.push(e.id as string)
      }),
    )
    child.kill('SIGKILL')
    await once(child, 'exit')
    expect(acked).toHaveLength(20)

    // The killed owner's lock file is stale; a new process takes over the same data.
    const store = await db.open()
    try {
      for (const id of acked) {
        expect(await store.getEvent({ allPlants: true, reason: 'test' }, id), id).toBeDefined()
      }
    } finally {
      await store.close()
    }
  })
})
