import { randomUUID } from 'node:crypto'
import { afterEach, expect, test } from 'vitest'
import type { VersionedRow } from '../../src/buffer/rows.ts'
import { EntityStore } from '../../src/buffer/entity-store.ts'
import { Flusher, type FlushCommit } from '../../src/buffer/flusher.ts'
import { countingPrisma, startHarness, type Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness
afterEach(() => harness?.close())

const settings = { batchMax: 5000, timeoutMs: 5000, deadLetterMax: 100, retryFirstDelayMs: 1000, retryMaxDelayMs: 3000 }
const row = (key: string, version: number, value: unknown = { version }): VersionedRow => ({ key, version, valueJson: JSON.stringify(value) })

/** A harness without workers, so each flush runs exactly when the test says. */
async function manualFlush() {
  harness = await startHarness({}, { start: false })
  const flusher = new Flusher(harness.prisma, new EntityStore(), harness.buffer, settings, harness.log)
  const accept = async (rows: VersionedRow[]) => {
    const outcome = await harness.buffer.accept('usage', rows, new Map(rows.map((r) => [r.key, -1])))
    expect(outcome.undecided).toEqual([])
    return outcome
  }
  return { flusher, accept }
}

test('a failed transaction keeps the batch in Redis and the next flush writes it', async () => {
  const { flusher, accept } = await manualFlush()
  await accept([row(harness.key('a'), 1), row(harness.key('b'), 2)])
  const down = countingPrisma('postgresql://postgres@127.0.0.1:1/test')
  const failing = new Flusher(down.prisma, new EntityStore(), harness.buffer, settings, harness.log)
  await expect(failing.flush('usage', 0)).rejects.toThrow()
  await down.prisma.$disconnect()
  expect(await harness.buffer.stats('usage')).toMatchObject({ pending: 0, flushing: 2 })
  expect((await harness.storedRows()).size).toBe(0)
  // Writes accepted while the batch waits for its retry stay pending for the flush after it.
  await accept([row(harness.key('a'), 3)])

  expect(await flusher.flush('usage', 0)).toEqual({ transactions: 2, rows: 3, deadLettered: 0, busy: false })
  const stored = await harness.storedRows()
  expect(stored.get(harness.key('a'))).toEqual({ version: 3, metrics: { version: 3 } })
  expect(stored.get(harness.key('b'))).toEqual({ version: 2, metrics: { version: 2 } })
  expect(await harness.buffer.stats('usage')).toMatchObject({ pending: 0, flushing: 0, flushed: 3 })
})

test('failed flushes back off exponentially up to FLUSH_RETRY_MAX_MS, counted in the stats; a committed flush ends the back-off', async () => {
  const { flusher, accept } = await manualFlush()
  await accept([row(harness.key('a'), 1)])
  const down = countingPrisma('postgresql://postgres@127.0.0.1:1/test')
  const failing = new Flusher(down.prisma, new EntityStore(), harness.buffer, settings, harness.log)
  const backoffs = []
  for (let attempt = 1; attempt <= 3; attempt++) {
    await expect(failing.flush('usage', 0)).rejects.toThrow()
    const stats = await harness.buffer.stats('usage')
    expect(stats).toMatchObject({ flushFailures: attempt, flushFailureStreak: attempt, flushing: 1 })
    backoffs.push(stats.flushBackoffMs)
  }
  await down.prisma.$disconnect()
  // 1000, 2000, then 4000 capped at 3000 (each read a moment after it was set).
  expect(backoffs[0]).toBeGreaterThan(500)
  expect(backoffs[0]).toBeLessThanOrEqual(1000)
  expect(backoffs[1]).toBeGreaterThan(1500)
  expect(backoffs[1]).toBeLessThanOrEqual(2000)
  expect(backoffs[2]).toBeGreaterThan(2500)
  expect(backoffs[2]).toBeLessThanOrEqual(3000)

  expect(await flusher.flush('usage', 0)).toMatchObject({ transactions: 1, rows: 1 })
  expect(await harness.buffer.stats('usage')).toMatchObject({ flushFailures: 3, flushFailureStreak: 0, flushBackoffMs: 0, flushing: 0 })
})

test('scheduled flushes wait out the back-off of a failed one', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '20' })
  await harness.waitForFirstFlush()
  await harness.buffer.flushFailed('usage', 0, randomUUID(), 60_000, 60_000)
  const jobId = await harness.client.cast({ entity: 'usage', key: harness.key('waits'), version: 1, value: {} })
  await harness.outcome(harness.writeQueue, jobId)
  const completed = await harness.flushQueue.getJobs(['completed'])
  await waitFor(async () => (await harness.flushQueue.getJobCounts('completed')).completed! > completed.length + 3, 'more scheduled flushes')
  const [latest] = await harness.flushQueue.getJobs(['completed'], 0, 0)
  expect(latest!.returnvalue.backoffMs).toBeGreaterThan(50_000)
  expect(await harness.buffer.stats('usage')).toMatchObject({ pending: 1, flushed: 0 })

  await harness.redis.del(harness.buffer.keys('usage', 0).flushBackoff)
  await harness.waitForFlushed()
  expect((await harness.storedRows()).get(harness.key('waits'))?.version).toBe(1)
})

test('a crash between commit and release re-applies the same batch harmlessly', async () => {
  const { flusher, accept } = await manualFlush()
  const key = harness.key('crash')
  await accept([row(key, 1), row(harness.key('other'), 1)])
  // The crashed conductor: it took the batch with a short lease and committed it, then died.
  const batch = await harness.buffer.takeBatch('usage', 0, randomUUID(), 200, 5000)
  expect(batch).toMatchObject({ retried: false, rows: { length: 2 } })
  await harness.prisma.$transaction((tx) => new EntityStore().upsert(tx, 'usage', batch!.rows))
  await accept([row(key, 2)])
  // A flush while the dead conductor's lease runs does nothing; once it expires the batch is retried.
  expect((await flusher.flush('usage', 0)).busy).toBe(true)
  await waitFor(async () => (await harness.redis.exists(harness.buffer.keys('usage', 0).flushLock)) === 0, 'the lease to expire')

  expect(await flusher.flush('usage', 0)).toMatchObject({ transactions: 2, rows: 3, busy: false })
  expect((await harness.storedRows()).get(key)).toEqual({ version: 2, metrics: { version: 2 } })
  expect(await harness.cache.read('usage', key)).toEqual({ source: 'cache', version: 2, value: { version: 2 } })
})

test('writes accepted during a flush go to the next one', async () => {
  const { flusher, accept } = await manualFlush()
  const [a, b] = [harness.key('a'), harness.key('b')]
  await accept([row(a, 1)])
  const token = randomUUID()
  const batch = await harness.buffer.takeBatch('usage', 0, token, 10_000, 5000)
  await accept([row(a, 2), row(b, 1)])
  expect(batch).toEqual({ retried: false, rows: [row(a, 1)] })
  await harness.prisma.$transaction((tx) => new EntityStore().upsert(tx, 'usage', batch!.rows))
  expect(await harness.buffer.releaseBatch('usage', 0, token, [], 100)).toBe(true)
  expect(await harness.buffer.stats('usage')).toMatchObject({ pending: 2, flushing: 0 })
  expect(await harness.cache.read('usage', a)).toEqual({ source: 'pending', version: 2, value: { version: 2 } })

  expect(await flusher.flush('usage', 0)).toMatchObject({ transactions: 1, rows: 2 })
  const stored = await harness.storedRows()
  expect(stored.get(a)?.version).toBe(2)
  expect(stored.get(b)?.version).toBe(1)
})

test('a released batch of thousands of rows becomes the cache in its every row, unless the cache already holds a newer version', async () => {
  const { accept } = await manualFlush()
  // More rows than one chunk of the release script, and not a multiple of it.
  const keys = Array.from({ length: 1234 }, (_, i) => harness.key(`many-${i}`))
  await accept(keys.map((key, i) => row(key, 10, { i })))
  const token = randomUUID()
  const batch = await harness.buffer.takeBatch('usage', 0, token, 10_000, 5000)
  expect(batch!.rows).toHaveLength(keys.length)
  expect(new Map(batch!.rows.map((taken) => [taken.key, taken.valueJson])).get(keys[1233]!)).toBe(JSON.stringify({ i: 1233 }))
  // While the batch was flushing, a read primed every third key with a newer version from PostgreSQL.
  const newer = keys.filter((_, i) => i % 3 === 0)
  await harness.cache.prime(
    'usage',
    newer.map((key) => row(key, 20, { newer: true })),
  )
  expect(await harness.buffer.releaseBatch('usage', 0, token, [], 100)).toBe(true)
  const cached = await Promise.all(keys.map((key) => harness.cache.read('usage', key)))
  for (const [i, read] of cached.entries()) {
    expect(read).toEqual(i % 3 === 0 ? { source: 'cache', version: 20, value: { newer: true } } : { source: 'cache', version: 10, value: { i } })
  }
})

test('a row PostgreSQL refuses is dead-lettered with its reason and the rest of its batch is written, in one transaction', async () => {
  const { flusher, accept } = await manualFlush()
  const rows = Array.from({ length: 100 }, (_, i) => row(harness.key(i), 1))
  // jsonb cannot hold a NUL character: PostgreSQL refuses this row, and only this one.
  rows[37] = row(harness.key(37), 1, { label: 'nul \u0000 inside' })
  await accept(rows)

  expect(await flusher.flush('usage', 0)).toEqual({ transactions: 1, rows: 99, deadLettered: 1, busy: false })
  expect(harness.counts.commits).toBe(1)
  const stored = await harness.storedRows()
  expect(stored.size).toBe(99)
  expect(stored.has(harness.key(37))).toBe(false)
  const [letter] = await harness.buffer.deadLetters('usage', 10)
  expect(letter).toMatchObject({ entity: 'usage', key: harness.key(37), version: 1, value: { label: 'nul \u0000 inside' } })
  expect(letter!.reason).toMatch(/^22P05 unsupported Unicode escape sequence/)
  expect(await harness.buffer.stats('usage')).toMatchObject({ pending: 0, flushing: 0, flushed: 99, deadLettered: 1 })
  // The buffer is not blocked: the next write of that key, valid this time, is flushed.
  await accept([row(harness.key(37), 2)])
  await flusher.flush('usage', 0)
  expect((await harness.storedRows()).get(harness.key(37))?.version).toBe(2)
})

test('the commit listener hears of each committed transaction with the rows it wrote, refused ones left out', async () => {
  harness = await startHarness({}, { start: false })
  const commits: FlushCommit[] = []
  const flusher = new Flusher(harness.prisma, new EntityStore(), harness.buffer, { ...settings, batchMax: 2 }, harness.log, (commit) => commits.push(commit))
  const refused = row(harness.key('nul'), 1, { label: 'nul \u0000 inside' })
  await harness.buffer.accept(
    'usage',
    [row(harness.key('a'), 1), refused, row(harness.key('b'), 1)],
    new Map([
      [harness.key('a'), -1],
      [refused.key, -1],
      [harness.key('b'), -1],
    ]),
  )

  expect(await flusher.flush('usage', 0)).toMatchObject({ transactions: 2, rows: 2, deadLettered: 1 })
  expect(commits).toHaveLength(2)
  expect(commits.flatMap((commit) => commit.rows.map((r) => r.key)).sort()).toEqual([harness.key('a'), harness.key('b')].sort())
  for (const commit of commits) {
    expect(commit.entity).toBe('usage')
    expect(commit.committedAt).toBeGreaterThanOrEqual(commit.startedAt)
  }
})

test('a flush while another holds the lease does nothing', async () => {
  const { flusher, accept } = await manualFlush()
  await accept([row(harness.key('a'), 1)])
  const other = randomUUID()
  await harness.buffer.takeBatch('usage', 0, other, 30_000, 5000)
  expect(await flusher.flush('usage', 0)).toEqual({ transactions: 0, rows: 0, deadLettered: 0, busy: true })
  expect((await harness.storedRows()).size).toBe(0)
  // The lease holder's release still works, and it is the only one that can release.
  expect(await harness.buffer.releaseBatch('usage', 0, randomUUID(), [], 100)).toBe(false)
  expect(await harness.buffer.releaseBatch('usage', 0, other, [], 100)).toBe(true)
})

test('the flush is a job scheduler that several conductors share', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '250' })
  const second = await import('../../src/conductor.ts').then(({ Conductor }) =>
    Conductor.start({ config: harness.config, prisma: harness.prisma, log: harness.log }),
  )
  try {
    const schedulers = await harness.flushQueue.getJobSchedulers()
    expect(schedulers.map((scheduler) => [scheduler.key, scheduler.every])).toEqual([['flush:usage:0', 250]])
    await harness.client.castBatch(Array.from({ length: 50 }, (_, i) => ({ entity: 'usage', key: harness.key(i), version: 1, value: {} })))
    await harness.waitForJobsDone(harness.writeQueue, 'the batch')
    await harness.waitForFlushed()
    expect((await harness.storedRows()).size).toBe(50)
  } finally {
    await second.close()
  }
})

test('a conductor started with another FLUSH_INTERVAL_MS reschedules the flush from now, not from the old schedule', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '600000' })
  await harness.waitForFirstFlush()
  await harness.stopConductor()
  harness.config.FLUSH_INTERVAL_MS = 50
  await harness.startConductor()
  const [scheduler] = await harness.flushQueue.getJobSchedulers()
  expect(scheduler).toMatchObject({ key: 'flush:usage:0', every: 50 })
  // An offset kept from the 600000 ms schedule would put flushes up to ten minutes away.
  expect(scheduler!.offset).toBeLessThan(50)
  expect(scheduler!.next! - Date.now()).toBeLessThan(1000)
  await harness.client.cast({ entity: 'usage', key: harness.key('soon'), version: 1, value: {} })
  await harness.waitForJobsDone(harness.writeQueue, 'the write')
  await harness.waitForFlushed()
})
