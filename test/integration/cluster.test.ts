import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { Conductor } from '../../src/conductor.ts'
import type { FlushCommit } from '../../src/buffer/flusher.ts'
import { startApi, type StartedApi } from '../support/api.ts'
import { shuffled, startHarness, type Harness, type Settings } from '../support/harness.ts'
import { raceOutOfOrder } from '../support/out-of-order-race.ts'
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts'
import { waitFor } from '../support/wait-for.ts'

// The core semantics again, on a private 3-master Redis Cluster: every Lua script's keys share one
// slot, and BullMQ's under the braced prefix share another.
let cluster: RedisCluster | undefined
beforeAll(async () => {
  cluster = await startRedisCluster()
})
afterAll(() => cluster?.stop())

let harness: Harness | undefined
let api: StartedApi | undefined
afterEach(async () => {
  await api?.app.close()
  await (api?.harness ?? harness)?.close()
  api = undefined
  harness = undefined
})

const onCluster = (settings: Settings = {}, options?: { start?: boolean }) =>
  startHarness({ REDIS_CLUSTER_NODES: cluster!.nodes.join(','), ...settings }, options)

test('out-of-order writes racing the flushes of 3 shards coalesce to the highest version, never moving backwards', async () => {
  const h = (harness = await onCluster({ FLUSH_SHARDS: '3', WRITE_CONCURRENCY: '16', FLUSH_INTERVAL_MS: '50', FLUSH_BATCH_MAX: '7' }))
  expect(await h.redis.exists(`{${h.prefix}}:conductor-flush:repeat`)).toBe(1)
  const keys = Array.from({ length: 30 }, (_, i) => h.key(i))
  const sent = await raceOutOfOrder(h, keys, 50, 5)

  const stored = await h.storedRows()
  for (const key of keys) expect(stored.get(key)).toEqual({ version: 50, metrics: { version: 50 } })
  const stats = await h.buffer.stats('usage')
  expect(stats.accepted + stats.stale).toBe(sent)
  for (const shard of [0, 1, 2]) expect(Number(await h.redis.hget(h.buffer.keys('usage', shard).stats, 'flushed'))).toBeGreaterThan(0)
})

test('reads see their writes: pending, then cached after the flush, and read through to PostgreSQL', async () => {
  const h = (harness = await onCluster({ FLUSH_SHARDS: '2' }))
  const written = h.key('written')
  await h.client.cast({ entity: 'usage', key: written, version: 3, value: { in_use: 3 } })
  await h.waitForJobsDone(h.writeQueue, 'the write')
  expect(await h.client.call({ entity: 'usage', key: written })).toMatchObject({ found: true, version: 3, value: { in_use: 3 } })
  await h.waitForFlushed()
  expect(await h.client.call({ entity: 'usage', key: written })).toEqual({ found: true, source: 'cache', version: 3, value: { in_use: 3 } })

  const stored = h.key('stored')
  await h.prisma.deployableUsage.create({ data: { deployableUuid: stored, version: 9n, metrics: { from: 'db' } } })
  expect(await h.client.call({ entity: 'usage', key: stored })).toEqual({ found: true, source: 'db', version: 9, value: { from: 'db' } })
  expect(await h.client.call({ entity: 'usage', key: stored })).toEqual({ found: true, source: 'cache', version: 9, value: { from: 'db' } })
  expect(await h.client.call({ entity: 'usage', key: h.key('nowhere') })).toEqual({ found: false, source: 'db', version: null, value: null })
})

test('the HTTP API runs on the cluster: readiness, rate-limited reads', async () => {
  api = await startApi({ REDIS_CLUSTER_NODES: cluster!.nodes.join(',') })
  const { app } = api
  // Ready once every shard's scheduled flush has run.
  const ready = await waitFor(async () => {
    const answer = await app.inject({ url: '/readyz' })
    return answer.statusCode === 200 ? answer : undefined
  }, 'the conductor to be ready')
  expect(ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', postgres: 'ok', flush: 'ok' } })
  const missing = await api.app.inject({ url: `/conductor/entities/usage/${api.harness.key('x')}`, headers: api.as('readerA') })
  expect(missing.statusCode).toBe(404)
  expect(missing.headers['x-ratelimit-remaining']).toBeDefined()
})

test('two conductors share the queues and the 4 shards: every write ends exact, no shard flushed by both at once', async () => {
  const h = (harness = await onCluster({ FLUSH_SHARDS: '4', FLUSH_INTERVAL_MS: '50' }, { start: false }))
  const commits: (FlushCommit & { conductor: number })[] = []
  const log = pino({ level: 'silent' })
  const conductors = await Promise.all(
    [0, 1].map((conductor) =>
      Conductor.start({ config: h.config, prisma: h.prisma, log, onFlushCommitted: (commit) => commits.push({ ...commit, conductor }) }),
    ),
  )
  try {
    const keys = Array.from({ length: 100 }, (_, i) => h.key(i))
    for (let round = 1; round <= 10; round++) {
      await h.client.castBatch(shuffled(keys, round).map((key) => ({ entity: 'usage', key, version: round, value: { round } })))
      await h.waitForJobsDone(h.writeQueue, `round ${round}`)
      await h.waitForFlushed()
    }
    const stored = await h.storedRows()
    for (const key of keys) expect(stored.get(key)).toEqual({ version: 10, metrics: { round: 10 } })
    expect(new Set(commits.map((commit) => commit.conductor))).toEqual(new Set([0, 1]))
    expect(new Set(commits.map((commit) => commit.shard))).toEqual(new Set([0, 1, 2, 3]))
    for (const a of commits) {
      for (const b of commits) {
        if (a === b || a.shard !== b.shard) continue
        expect(a.committedAt <= b.startedAt || b.committedAt <= a.startedAt).toBe(true)
      }
    }
  } finally {
    await Promise.all(conductors.map((conductor) => conductor.close()))
  }
})
