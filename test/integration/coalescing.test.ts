import { afterEach, expect, test } from 'vitest'
import { EntityStore } from '../../src/buffer/entity-store.ts'
import { WriteIntake, type PreparedWrite } from '../../src/buffer/write-intake.ts'
import { ReadThrough } from '../../src/cache/read-through.ts'
import { WRITE_JOB } from '../../src/queues/contract/names.ts'
import { shuffled, startHarness, type Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

const HOUR_MS = 3_600_000

let harness: Harness
afterEach(() => harness?.close())

test('10,000 writes to 100 keys in shuffled order leave the highest version of each key, in a handful of transactions', async () => {
  // The scheduled flush comes once an hour, so the test flushes when the writes are in: the count of
  // transactions then depends on the coalescing alone, not on how fast this machine takes 10,000 jobs.
  harness = await startHarness({ WRITE_CONCURRENCY: '8', FLUSH_INTERVAL_MS: String(HOUR_MS) })
  await harness.waitForFirstFlush()
  const writes = []
  for (let key = 0; key < 100; key++) {
    for (let version = 1; version <= 100; version++) {
      writes.push({ entity: 'usage', key: harness.key(key), version, value: { accelerators_in_use: version % 16 } })
    }
  }
  const order = shuffled(writes, 7)
  for (let start = 0; start < order.length; start += 1000) {
    await harness.writeQueue.addBulk(order.slice(start, start + 1000).map((data) => ({ name: WRITE_JOB, data })))
  }
  await harness.waitForJobsDone(harness.writeQueue, 'the 10,000 write jobs')
  await harness.conductor.flusher.flush('usage', 0)
  await harness.waitForFlushed()

  const stored = await harness.storedRows()
  expect(stored.size).toBe(100)
  for (let key = 0; key < 100; key++) {
    expect(stored.get(harness.key(key))).toEqual({ version: 100, metrics: { accelerators_in_use: 100 % 16 } })
  }
  const stats = await harness.buffer.stats('usage')
  expect(stats.accepted + stats.stale).toBe(10_000)
  expect(stats.flushed).toBeLessThanOrEqual(stats.accepted)
  console.log(`10,000 writes: ${stats.accepted} accepted, ${stats.stale} stale, ${stats.flushed} rows flushed in ${harness.counts.commits} transactions`)
  expect(harness.counts.commits).toBeGreaterThanOrEqual(1)
  expect(harness.counts.commits).toBeLessThanOrEqual(8)
})

test('a batch of 10,000 writes is flushed in one transaction', async () => {
  harness = await startHarness({ FLUSH_BATCH_MAX: '10000', FLUSH_INTERVAL_MS: String(HOUR_MS) })
  await harness.waitForFirstFlush()
  const writes = shuffled(
    Array.from({ length: 10_000 }, (_, i) => ({ entity: 'usage', key: harness.key(i % 5000), version: i, value: { i } })),
    3,
  )
  await harness.client.castBatch(writes)
  await harness.waitForJobsDone(harness.writeQueue, 'the write-batch job')
  await harness.conductor.flusher.flush('usage', 0)
  await harness.waitForFlushed()
  const stored = await harness.storedRows()
  expect(stored.size).toBe(5000)
  expect(stored.get(harness.key(42))).toEqual({ version: 5042, metrics: { i: 5042 } })
  await waitFor(() => harness.counts.commits > 0, 'the flush commit')
  expect(harness.counts.commits).toBe(1)
})

test('write jobs that arrive while an accept call is in flight share the next call, and each gets the outcome of its own writes', async () => {
  harness = await startHarness({}, { start: false })
  const reads = new ReadThrough(harness.prisma, new EntityStore(), harness.cache)
  const intake = new WriteIntake(harness.buffer, (entity, keys) => reads.load(entity, keys), 65_536, harness.config.VERSION_MAX_AHEAD_MS)
  const write = (name: string, version: number): PreparedWrite => ({ entity: 'usage', key: harness.key(name), version, valueJson: JSON.stringify({ version }) })
  expect(await intake.accept([write('a', 5), write('b', 5), write('c', 5)])).toEqual({ accepted: 3, stale: 0 })

  // Counts the script calls of the real buffer (Redis itself is not replaced).
  const calls: number[] = []
  const acceptEach = harness.buffer.acceptEach.bind(harness.buffer)
  harness.buffer.acceptEach = (entity, writes, storedVersions) => {
    calls.push(writes.length)
    return acceptEach(entity, writes, storedVersions)
  }
  const outcomes = await Promise.all([
    intake.accept([write('a', 3), write('b', 6)]),
    intake.accept([write('a', 7), write('c', 4)]),
    // b 6 arrives after the first job's b 6: stale. d is new to Redis: this job alone reads PostgreSQL for it, then accepts it.
    intake.accept([write('b', 6), write('d', 1)]),
  ])
  expect(outcomes).toEqual([
    { accepted: 1, stale: 1 },
    { accepted: 1, stale: 1 },
    { accepted: 1, stale: 1 },
  ])
  // The first job went at once; the two that came while it was in flight went together; then d with its stored version.
  expect(calls).toEqual([2, 4, 1])
  const pending = await harness.redis.hgetall(harness.buffer.keys('usage', 0).pendingVersions)
  expect(pending).toEqual({ [harness.key('a')]: '7', [harness.key('b')]: '6', [harness.key('c')]: '5', [harness.key('d')]: '1' })
})
