import { afterEach, expect, test } from 'vitest'
import { WRITE_JOB } from '../src/queues/names.ts'
import { shuffled, startHarness, type Harness } from './support/harness.ts'
import { waitFor } from './support/wait-for.ts'

let harness: Harness
afterEach(() => harness?.close())

test('10,000 writes to 100 keys in shuffled order leave the highest version of each key, in a handful of transactions', async () => {
  harness = await startHarness({ WRITE_CONCURRENCY: '8' })
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
  harness = await startHarness({ FLUSH_BATCH_MAX: '10000' })
  const writes = shuffled(
    Array.from({ length: 10_000 }, (_, i) => ({ entity: 'usage', key: harness.key(i % 5000), version: i, value: { i } })),
    3,
  )
  await harness.client.castBatch(writes)
  await harness.waitForJobsDone(harness.writeQueue, 'the write-batch job')
  await harness.waitForFlushed()
  const stored = await harness.storedRows()
  expect(stored.size).toBe(5000)
  expect(stored.get(harness.key(42))).toEqual({ version: 5042, metrics: { i: 5042 } })
  await waitFor(() => harness.counts.commits > 0, 'the flush commit')
  expect(harness.counts.commits).toBe(1)
})
