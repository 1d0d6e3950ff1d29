import { Queue } from 'bullmq'
import { afterEach, expect, test } from 'vitest'
import { FLUSH_QUEUE } from '../../src/queues/contract/names.ts'
import { waitFor } from '../support/wait-for.ts'
import { HttpWriters } from './support/http-writers.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

test("a removed flush scheduler (as anyone with the queue's Redis access can do): /readyz fails while the shard's flush does not run, the conductor puts the scheduler back, and the writes are flushed", async () => {
  rig = await startRig({ FLUSH_INTERVAL_MS: '200', FLUSH_TIMEOUT_MS: '1000' })
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const readiness = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`)
    return { status: response.status, flush: ((await response.json()) as { checks: { flush: string } }).checks.flush }
  }
  await waitFor(async () => (await readiness()).status === 200, 'the conductor to be ready', 30_000)

  const flushQueue = new Queue(FLUSH_QUEUE, { connection: rig.redisConnection, prefix: rig.prefix })
  try {
    let next = 0
    const writers = new HttpWriters({
      port,
      headers: rig.agentHeaders,
      prefix: rig.prefix,
      batch: 10,
      concurrency: 1,
      nextKey: () => next++,
      requestTimeoutMs: 10_000,
    })
    await flushQueue.removeJobScheduler('flush:usage:0')
    for (const job of await flushQueue.getJobs(['delayed', 'waiting'])) await job.remove().catch(() => {})
    const stale = await waitFor(
      async () => {
        const answer = await readiness()
        return answer.status === 503 ? answer : undefined
      },
      '/readyz to see the flush stopped',
      15_000,
    )
    expect(stale.flush).toMatch(/^flush not running: usage shard 0 last ran \d+ s ago$/)
    expect(await writers.post([0, 1, 2])).toBe(202)

    // Put back by the conductor (every 20 intervals): flushes run again and the writes reach PostgreSQL.
    await waitFor(async () => (await flushQueue.getJobScheduler('flush:usage:0')) !== undefined, 'the scheduler to be put back', 15_000)
    await waitFor(async () => (await readiness()).status === 200, '/readyz to be ready again', 15_000)
    await rig.waitForFlushed(15_000)
    expect(writers.verify(await rig.stored())).toEqual({ keys: 3, lost: 0, regressed: 0 })
  } finally {
    await flushQueue.close()
  }
  expect(await conductor.terminate()).toBe(0)
})
