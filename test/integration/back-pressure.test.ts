import type { FastifyInstance } from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { WRITE_BATCH_JOB, WRITE_JOB } from '../../src/queues/contract/names.ts'
import { Conductor } from '../../src/conductor.ts'
import { fault, startApi } from '../support/api.ts'
import { countingPrisma, startHarness, type Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
  await harness?.close()
})

const write = (key: string, version: number) => ({ entity: 'usage', key, version, value: { version } })

/** A conductor whose buffer holds three keys and flushes only when told. */
const FULL_BUFFER = { PENDING_MAX_KEYS: '3', FLUSH_INTERVAL_MS: '600000' }

async function fullBuffer() {
  harness = await startHarness(FULL_BUFFER)
  await fillBuffer()
}

async function fillBuffer() {
  await harness.waitForFirstFlush()
  const first = await harness.writeQueue.add(WRITE_BATCH_JOB, { writes: [0, 1, 2].map((i) => write(harness.key(i), 1)) })
  expect(await harness.outcome(harness.writeQueue, first.id!)).toEqual({ returnvalue: { accepted: 3, stale: 0 } })
}

/** Waits until the job waits in the delayed set for the reason given, its attempts untouched. */
async function retrying(jobId: string, reason: string | RegExp) {
  const job = await waitFor(async () => {
    const current = (await harness.writeQueue.getJob(jobId))!
    return (current.progress as { retrying?: string }).retrying ? current : undefined
  }, `job ${jobId} to wait for a retry`)
  expect((job.progress as { retrying: string }).retrying).toMatch(reason)
  expect(job.attemptsMade).toBe(0)
  expect(await job.isFailed()).toBe(false)
}

test('past PENDING_MAX_KEYS a write of a new key waits with a back-pressure reason and is retried, using no attempt; pending keys are still updated', async () => {
  await fullBuffer()
  const refused = await harness.writeQueue.add(WRITE_JOB, write(harness.key(3), 1))
  await retrying(
    refused.id!,
    'back-pressure: 3 keys accepted and not yet flushed to PostgreSQL, PENDING_MAX_KEYS is 3: 1 of 1 writes refused (0 accepted, 0 stale); retry later',
  )

  const update = await harness.writeQueue.add(WRITE_JOB, write(harness.key(0), 2))
  expect(await harness.outcome(harness.writeQueue, update.id!)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  const mixed = await harness.writeQueue.add(WRITE_BATCH_JOB, { writes: [write(harness.key(1), 2), write(harness.key(4), 1), write(harness.key(2), 1)] })
  await retrying(mixed.id!, /^back-pressure: 3 keys accepted and not yet flushed to PostgreSQL, PENDING_MAX_KEYS is 3: 1 of 3 writes refused/)
  expect(await harness.cache.read('usage', harness.key(1))).toMatchObject({ source: 'pending', version: 2 })
  expect(await harness.cache.read('usage', harness.key(4))).toBeNull()

  // Once the backlog is flushed there is room again, and the waiting write goes in by itself.
  await harness.conductor.flusher.flush('usage', 0)
  expect(await harness.outcome(harness.writeQueue, refused.id!)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
})

test('a retried batch refused in part is accepted whole once there is room, its earlier writes counting as stale', async () => {
  await fullBuffer()
  const batch = { writes: [write(harness.key(0), 5), write(harness.key(9), 5)] }
  const job = await harness.writeQueue.add(WRITE_BATCH_JOB, batch, { attempts: 20, backoff: { type: 'fixed', delay: 100 } })
  await retrying(job.id!, /^back-pressure: .*: 1 of 2 writes refused \(1 accepted, 0 stale\)/)
  await harness.conductor.flusher.flush('usage', 0)
  expect(await harness.outcome(harness.writeQueue, job.id!)).toMatchObject({ returnvalue: { accepted: 1, stale: 1 } })
  await harness.conductor.flusher.flush('usage', 0)
  const stored = await harness.storedRows()
  expect(stored.get(harness.key(0))?.version).toBe(5)
  expect(stored.get(harness.key(9))?.version).toBe(5)
})

test('POST /conductor/writes answers 503 with Retry-After while the buffer is full, and enqueues nothing', async () => {
  const api = await startApi(FULL_BUFFER)
  ;({ harness, app } = api)
  await fillBuffer()
  const jobsBefore = await harness.writeQueue.count()
  const refused = await app.inject({ method: 'POST', url: '/conductor/writes', headers: api.as('agent'), payload: { writes: [write(harness.key(7), 1)] } })
  expect(refused.statusCode).toBe(503)
  // About one flush interval: the buffer frees room when a flush commits.
  expect(refused.headers['retry-after']).toBe('600')
  expect(fault(refused)).toBe('back-pressure: 3 keys accepted and not yet flushed to PostgreSQL, PENDING_MAX_KEYS is 3; retry later')
  expect(await harness.writeQueue.count()).toBe(jobsBefore)

  await harness.conductor.flusher.flush('usage', 0)
  const accepted = await app.inject({ method: 'POST', url: '/conductor/writes', headers: api.as('agent'), payload: { writes: [write(harness.key(7), 1)] } })
  expect(accepted.statusCode).toBe(202)
})

test('while PostgreSQL is down a write of a key Redis does not know waits with a reason that says so, using no attempt', async () => {
  harness = await startHarness({}, { start: false })
  const down = countingPrisma('postgresql://postgres@127.0.0.1:1/test')
  const conductor = await Conductor.start({ config: harness.config, prisma: down.prisma, log: harness.log })
  try {
    const job = await harness.writeQueue.add(WRITE_JOB, write(harness.key('new'), 1))
    await retrying(
      job.id!,
      /^1 writes of keys Redis does not know need their stored version, and reading it from PostgreSQL failed \(.*(Can't reach database server at 127\.0\.0\.1:1|did not finish within).*\); retry later$/,
    )
  } finally {
    await conductor.close()
    await down.prisma.$disconnect()
  }
})
