import { afterEach, expect, test } from 'vitest'
import { EntityStore } from '../../src/buffer/entity-store.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { raceOutOfOrder } from '../support/out-of-order-race.ts'

let harness: Harness
afterEach(() => harness?.close())

test('versions delivered out of order to concurrent workers never let an older version win, in Redis or PostgreSQL', async () => {
  harness = await startHarness({ WRITE_CONCURRENCY: '16', FLUSH_INTERVAL_MS: '50', FLUSH_BATCH_MAX: '7' })
  const keys = Array.from({ length: 20 }, (_, i) => harness.key(i))
  const sent = await raceOutOfOrder(harness, keys, 200, 11)

  const stored = await harness.storedRows()
  for (const key of keys) {
    expect(stored.get(key)).toEqual({ version: 200, metrics: { version: 200 } })
    expect(await harness.cache.read('usage', key)).toEqual({ source: 'cache', version: 200, value: { version: 200 } })
  }
  const stats = await harness.buffer.stats('usage')
  expect(stats.accepted + stats.stale).toBe(sent)
})

test('the SQL upsert itself refuses to move a row backwards', async () => {
  harness = await startHarness({}, { start: false })
  const store = new EntityStore()
  const key = harness.key('guard')
  const row = (version: number) => ({ key, version, valueJson: JSON.stringify({ version }) })
  expect(await store.upsert(harness.prisma, 'usage', [row(5)])).toBe(1)
  expect(await store.upsert(harness.prisma, 'usage', [row(3)])).toBe(0)
  expect(await store.upsert(harness.prisma, 'usage', [row(5)])).toBe(0)
  expect((await harness.storedRows()).get(key)).toEqual({ version: 5, metrics: { version: 5 } })
  expect(await store.upsert(harness.prisma, 'usage', [row(6)])).toBe(1)
  expect((await harness.storedRows()).get(key)).toEqual({ version: 6, metrics: { version: 6 } })
})

test('a write older than the stored row is stale even when Redis has lost its cache', async () => {
  harness = await startHarness()
  const key = harness.key('stored')
  await harness.prisma.deployableUsage.create({ data: { deployableUuid: key, version: 100n, metrics: { from: 'db' } } })
  await harness.redis.del(...Object.values(harness.buffer.keys('usage', 0)))

  const older = await harness.client.cast({ entity: 'usage', key, version: 99, value: { from: 'agent' } })
  expect(await harness.outcome(harness.writeQueue, older)).toEqual({ returnvalue: { accepted: 0, stale: 1 } })
  const newer = await harness.client.cast({ entity: 'usage', key, version: 101, value: { from: 'agent' } })
  expect(await harness.outcome(harness.writeQueue, newer)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  await harness.waitForFlushed()
  expect((await harness.storedRows()).get(key)).toEqual({ version: 101, metrics: { from: 'agent' } })
})
