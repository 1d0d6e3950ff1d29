import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { faultOf } from '../support/api.ts'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const OUTAGE_MS = 32_000
const PENDING_MAX_KEYS = 150

test('PostgreSQL down for 32 s under load: known keys keep being accepted up to PENDING_MAX_KEYS, back-pressure past it, flushes back off, the backlog drains', async () => {
  rig = await startRig({ FLUSH_INTERVAL_MS: '200', FLUSH_RETRY_MAX_MS: '4000', FLUSH_TIMEOUT_MS: '2000', PENDING_MAX_KEYS: String(PENDING_MAX_KEYS) })
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  // 300 deployables, twice as many as the buffer may hold unflushed; each written once and flushed first, so the conductor knows them.
  const agents = rig.startAgents({ keys: 300, writesPerSecond: 150, batchShare: 0, seed: 32 })
  await agents.writeEveryKey()
  await agents.settle(30_000)
  await rig.waitForFlushed(30_000)
  agents.start()
  await waitFor(async () => (await agents.finishedJobs()).completed > 200, 'the agents to be under way')

  await rig.postgres.stop()
  const down = Date.now()
  const acceptedBefore = (await rig.buffer.stats('usage')).accepted
  await waitFor(async () => (await rig!.buffer.unflushedCount('usage')) >= PENDING_MAX_KEYS, 'the buffer to fill up')
  const refused = await fetch(`http://127.0.0.1:${port}/conductor/writes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...rig.agentHeaders },
    body: JSON.stringify({ writes: [{ entity: 'usage', key: agents.key(0), version: 1, value: { version: 1 } }] }),
  })
  expect(refused.status).toBe(503)
  expect(refused.headers.get('retry-after')).toBe('1')
  expect(faultOf(await refused.json())).toMatch(/^back-pressure: \d+ keys accepted and not yet flushed to PostgreSQL, PENDING_MAX_KEYS is 150; retry later$/)
  // The outage lasts its full length whatever happens; the conductor must stay up throughout.
  while (Date.now() - down < OUTAGE_MS) {
    expect(conductor.running).toBe(true)
    await delay(500)
  }
  const during = await rig.buffer.stats('usage')
  await rig.postgres.start()
  const outageSeconds = (Date.now() - down) / 1000

  // Writes went on being accepted (updates of pending keys), and the buffer never went past its limit.
  expect(during.accepted - acceptedBefore).toBeGreaterThan(1000)
  expect(during.pending + during.flushing).toBeLessThanOrEqual(PENDING_MAX_KEYS)
  expect(during.backPressured).toBeGreaterThan(0)
  // Flushes backed off (200 ms doubling to 4 s) instead of failing every 200 ms: 160 attempts.
  expect(during.flushFailures).toBeGreaterThanOrEqual(5)
  expect(during.flushFailures).toBeLessThanOrEqual(20)
  expect(during.flushFailureStreak).toBe(during.flushFailures)
  const failures = conductor.logs().filter((entry) => entry.msg.startsWith('flush failed'))
  expect(failures.map((entry) => entry.attempt)).toEqual(Array.from({ length: failures.length }, (_, i) => i + 1))
  expect(failures.map((entry) => entry.nextAttemptInMs).slice(0, 6)).toEqual([200, 400, 800, 1600, 3200, 4000])

  await waitFor(async () => (await rig!.buffer.stats('usage')).flushFailureStreak === 0, 'a flush to commit once PostgreSQL is back', 30_000)
  await agents.stop()
  await agents.settle(30_000)
  await rig.waitForFlushed(30_000)
  expect(await conductor.terminate()).toBe(0)

  const { ledger, check } = await rig.verify(agents, 'PostgreSQL outage', { outageSeconds })
  console.log(`[faults] PostgreSQL outage: buffer stats at its end ${JSON.stringify(during)}`)
  // A write refused by back-pressure waits and is retried until accepted: no job failed, none used up its attempts.
  expect(check).toEqual({ keys: 300, lost: 0, regressed: 0, phantom: 0, unconfirmedApplied: 0 })
  expect([...ledger.failures.keys()]).toEqual([])
  expect(ledger.jobs).toBeGreaterThanOrEqual(agents.jobsAdded)
})
