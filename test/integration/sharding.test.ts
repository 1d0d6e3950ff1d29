import { pino } from 'pino'
import { afterEach, expect, test } from 'vitest'
import { flushShardsKey, shardOf } from '../../src/buffer/keys.ts'
import { ShardCountError } from '../../src/buffer/write-buffer.ts'
import { Conductor } from '../../src/conductor.ts'
import { startHarness, testConfig, type Harness } from '../support/harness.ts'

let harness: Harness
afterEach(() => harness?.close())

const usage = (key: string, version: number) => ({ entity: 'usage', key, version, value: { version } })

test('a key’s shard is FNV-1a (32 bits) of its UTF-8 bytes modulo FLUSH_SHARDS', () => {
  // FNV-1a test vectors: "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
  expect(shardOf('a', 256)).toBe(0xe40c292c % 256)
  expect(shardOf('foobar', 7)).toBe(0xbf9cf968 % 7)
  expect(shardOf('foobar', 1)).toBe(0)
})

test('with FLUSH_SHARDS=4 writes spread over the shards, stats sum them, and each non-empty shard flushes in one transaction', async () => {
  // A long interval: after the schedulers' first (empty) flushes, the test flushes each shard itself.
  harness = await startHarness({ FLUSH_SHARDS: '4', FLUSH_INTERVAL_MS: '600000' })
  const schedulers = await harness.flushQueue.getJobSchedulers(0, -1)
  expect(schedulers.map((scheduler) => [scheduler.key, scheduler.template?.data]).sort()).toEqual(
    [0, 1, 2, 3].map((shard) => [`flush:usage:${shard}`, { entity: 'usage', shard }]),
  )
  await harness.waitForFirstFlush()

  const keys = Array.from({ length: 200 }, (_, i) => harness.key(i))
  await harness.client.castBatch(keys.flatMap((key) => [usage(key, 2), usage(key, 1)]))
  await harness.waitForJobsDone(harness.writeQueue, 'the write-batch job')

  const perShard = await Promise.all([0, 1, 2, 3].map((shard) => harness.redis.hlen(harness.buffer.keys('usage', shard).pendingVersions)))
  for (const [shard, count] of perShard.entries()) {
    expect(count).toBe(keys.filter((key) => shardOf(key, 4) === shard).length)
    expect(count).toBeGreaterThan(20)
  }
  expect(await harness.buffer.stats('usage')).toMatchObject({ accepted: 200, stale: 200, pending: 200, flushing: 0 })
  expect(await harness.cache.read('usage', keys[7]!)).toEqual({ source: 'pending', version: 2, value: { version: 2 } })

  const commitsBefore = harness.counts.commits
  for (const shard of [0, 1, 2, 3]) {
    expect(await harness.conductor.flusher.flush('usage', shard)).toMatchObject({ transactions: 1, rows: perShard[shard] })
  }
  expect(harness.counts.commits - commitsBefore).toBe(4)
  const stored = await harness.storedRows()
  expect(stored.size).toBe(200)
  for (const key of keys) expect(stored.get(key)).toEqual({ version: 2, metrics: { version: 2 } })
  expect(await harness.buffer.stats('usage')).toMatchObject({ flushed: 200, pending: 0, flushing: 0 })
  expect(await harness.cache.read('usage', keys[7]!)).toEqual({ source: 'cache', version: 2, value: { version: 2 } })
})

test('a conductor with another FLUSH_SHARDS refuses to start while writes are pending, and takes over once they are flushed', async () => {
  harness = await startHarness({ FLUSH_SHARDS: '4', FLUSH_INTERVAL_MS: '600000' })
  await harness.waitForFirstFlush()
  const keys = Array.from({ length: 20 }, (_, i) => harness.key(i))
  await harness.client.castBatch(keys.map((key) => usage(key, 5)))
  await harness.waitForJobsDone(harness.writeQueue, 'the write-batch job')

  const twoShards = testConfig({ CONDUCTOR_PREFIX: harness.prefix, FLUSH_SHARDS: '2', LOG_LEVEL: 'silent' })
  const log = pino({ level: 'silent' })
  const refused = Conductor.start({ config: twoShards, prisma: harness.prisma, log })
  await expect(refused).rejects.toThrow(ShardCountError)
  await expect(refused).rejects.toThrow(/FLUSH_SHARDS is 2, but the conductors of prefix .* split the buffer into 4 shards, and 20 writes of usage/)

  await harness.stopConductor()
  expect(await harness.buffer.unflushedCount('usage')).toBe(0)
  const conductor = await Conductor.start({ config: twoShards, prisma: harness.prisma, log })
  try {
    expect(await harness.redis.get(flushShardsKey(harness.prefix))).toBe('2')
    // The old shards' caches are gone: reads go to PostgreSQL once and are cached in the new shards.
    expect(await harness.redis.exists(...[0, 1, 2, 3].map((shard) => harness.buffer.keys('usage', shard).cacheVersions).slice(2))).toBe(0)
    expect(await conductor.reads.read('usage', keys[3]!)).toEqual({ found: true, value: { version: 5 }, version: 5, source: 'db' })
    expect(await conductor.reads.read('usage', keys[3]!)).toEqual({ found: true, value: { version: 5 }, version: 5, source: 'cache' })
    const schedulers = await harness.flushQueue.getJobSchedulers(0, -1)
    expect(schedulers.map((scheduler) => scheduler.key).sort()).toEqual(['flush:usage:0', 'flush:usage:1'])
  } finally {
    await conductor.close()
  }
})
