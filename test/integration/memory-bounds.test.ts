import { afterEach, expect, test } from 'vitest'
import { ConductorClient, writeLimitsOf } from '../../src/queues/client/conductor-client.ts'
import { queuePrefix } from '../../src/redis/connection.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness | undefined
afterEach(() => harness?.close())

/** Returns once the clock has moved past `after`: access times are milliseconds, and eviction order needs them apart. */
function pastMillisecond(after: number): number {
  let now = Date.now()
  while (now <= after) now = Date.now()
  return now
}

const row = (key: string, version = 1) => ({ key, version, valueJson: JSON.stringify({ key }) })

test('the entity cache holds at most CACHE_MAX_KEYS keys and evicts the least recently read or written; an evicted key is read from PostgreSQL again', async () => {
  harness = await startHarness({ CACHE_MAX_KEYS: '4' }, { start: false })
  const { cache, buffer, redis, key } = harness
  const keys = buffer.keys('usage', 0)
  await cache.prime(
    'usage',
    [0, 1, 2, 3].map((n) => row(key(n))),
  )
  pastMillisecond(Date.now())
  expect(await cache.read('usage', key(0))).toMatchObject({ source: 'cache', version: 1 })
  pastMillisecond(Date.now())
  await cache.prime(
    'usage',
    [4, 5].map((n) => row(key(n))),
  )

  expect((await redis.hkeys(keys.cacheVersions)).sort()).toEqual([key(0), key(3), key(4), key(5)])
  expect(await redis.zcard(keys.cacheAccess)).toBe(4)
  expect(await cache.read('usage', key(1))).toBeNull()
})

test('eviction never touches pending or flushing writes: with a cache of one key, ten accepted writes stay readable', async () => {
  harness = await startHarness({ CACHE_MAX_KEYS: '1' }, { start: false })
  const { cache, buffer, key } = harness
  const pending = Array.from({ length: 10 }, (_, n) => row(key(`p${n}`), 7))
  expect((await buffer.accept('usage', pending, new Map(pending.map((write) => [write.key, -1])))).accepted).toBe(10)
  await cache.prime(
    'usage',
    [0, 1, 2].map((n) => row(key(n))),
  )
  for (const write of pending) expect(await cache.read('usage', write.key)).toMatchObject({ source: 'pending', version: 7 })
})

test('a flush releases its batch into the cache and evicts the coldest keys; a forgotten key (a deleted deployable) leaves no access record', async () => {
  harness = await startHarness({ CACHE_MAX_KEYS: '3', FLUSH_INTERVAL_MS: '50' })
  const { client, redis, buffer, key } = harness
  const keys = buffer.keys('usage', 0)
  await client.castBatch([0, 1, 2, 3, 4].map((n) => ({ entity: 'usage', key: key(n), version: 1, value: { n } })))
  await harness.waitForJobsDone(harness.writeQueue, 'the writes to be accepted')
  await harness.waitForFlushed()
  expect(await redis.hlen(keys.cacheVersions)).toBe(3)
  expect((await harness.storedRows()).size).toBe(5)
  // Every key is still read, the evicted ones from PostgreSQL.
  for (const n of [0, 1, 2, 3, 4]) expect(await client.call({ entity: 'usage', key: key(n) })).toMatchObject({ found: true, value: { n } })

  const cached = await redis.hkeys(keys.cacheVersions)
  await buffer.forget('usage', cached)
  expect(await redis.hlen(keys.cacheVersions)).toBe(0)
  expect(await redis.zcard(keys.cacheAccess)).toBe(0)
})

test('the view cache holds at most CACHE_MAX_KEYS views per kind, the least recently read evicted, and never one larger than WRITE_VALUE_MAX_BYTES', async () => {
  harness = await startHarness({ CACHE_MAX_KEYS: '2', WRITE_VALUE_MAX_BYTES: '200' }, { start: false })
  const { views } = harness
  await views.put('arq', [
    { key: 'a', version: 1, view: { name: 'a' } },
    { key: 'b', version: 1, view: { name: 'b' } },
  ])
  pastMillisecond(Date.now())
  expect(await views.get('arq', 'a')).toEqual({ name: 'a' })
  pastMillisecond(Date.now())
  await views.put('arq', [{ key: 'c', version: 1, view: { name: 'c' } }])
  expect(await views.get('arq', 'b')).toBeNull()
  expect(await views.get('arq', 'a')).toEqual({ name: 'a' })
  expect(await views.get('arq', 'c')).toEqual({ name: 'c' })

  await views.put('arq', [{ key: 'large', version: 1, view: { name: 'x'.repeat(300) } }])
  expect(await views.get('arq', 'large')).toBeNull()
})

test('a finished job keeps data up to JOB_KEPT_DATA_MAX_BYTES; larger data is replaced by its size once the job completed', async () => {
  harness = await startHarness({ JOB_KEPT_DATA_MAX_BYTES: '300' })
  const { client, writeQueue, key } = harness
  const small = await client.cast({ entity: 'usage', key: key('s'), version: 1, value: {} })
  const large = await client.castBatch([0, 1, 2, 3].map((n) => ({ entity: 'usage', key: key(n), version: 1, value: { blob: 'x'.repeat(100) } })))
  expect(await harness.outcome(writeQueue, large)).toEqual({ returnvalue: { accepted: 4, stale: 0 } })
  expect(await harness.outcome(writeQueue, small)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  expect((await writeQueue.getJob(large))!.data).toEqual({ droppedDataBytes: expect.any(Number) })
  expect((await writeQueue.getJob(small))!.data).toEqual({ entity: 'usage', key: key('s'), version: 1, value: {} })

  // Taken again after a stall, once its data was dropped: nothing left to do.
  const again = await writeQueue.add('write-batch', { droppedDataBytes: 1234 })
  expect(await harness.outcome(writeQueue, again.id!)).toEqual({ returnvalue: null })
})

test('the client refuses a write-batch or an inventory report over JOB_MAX_BYTES before adding it', async () => {
  harness = await startHarness({}, { start: false })
  const { key } = harness
  const config = { ...harness.config, JOB_MAX_BYTES: 2048 }
  const client = new ConductorClient({ connection: harness.redis, prefix: queuePrefix(config), readTimeoutMs: 1000, writeLimits: writeLimitsOf(config) })
  try {
    const writes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ entity: 'usage', key: key(n), version: 1, value: { blob: 'x'.repeat(300) } }))
    await expect(client.castBatch(writes)).rejects.toThrow(/^invalid write-batch: \d+ bytes of JSON, more than the 2048 allowed \(JOB_MAX_BYTES\)$/)
    const device = {
      type: 'GPU' as const,
      vendor: '10de',
      model: 'x'.repeat(255),
      std_board_info: {},
      vendor_board_info: 'y'.repeat(1000),
      stub: false,
      controlpath_id: { cpid_type: 'PCI' as const, cpid_info: '{}' },
      deployable_list: [],
    }
    await expect(client.reportInventory({ hostname: key('host'), version: 1, devices: [device, device] })).rejects.toThrow(
      /^invalid inventory report: \d+ bytes of JSON, more than the 2048 allowed \(JOB_MAX_BYTES\)$/,
    )
    expect(await harness.writeQueue.count()).toBe(0)
    expect(await harness.inventoryQueue.count()).toBe(0)
  } finally {
    await client.close()
  }
})
