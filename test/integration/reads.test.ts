import { afterEach, expect, test, vi } from 'vitest'
import { READ_JOB } from '../../src/queues/contract/names.ts'
import { ConductorTimeoutError } from '../../src/queues/client/conductor-timeout-error.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness
afterEach(() => harness?.close())

test('a read after an accepted write returns it before any flush', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '600000' })
  await harness.waitForFirstFlush()
  const key = harness.key('ryw')
  const jobId = await harness.client.cast({ entity: 'usage', key, version: 7, value: { utilisation: 42 } })
  expect(await harness.outcome(harness.writeQueue, jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  expect(await harness.client.call({ entity: 'usage', key })).toEqual({ found: true, value: { utilisation: 42 }, version: 7, source: 'pending' })
  expect((await harness.storedRows()).size).toBe(0)
})

test('a key only in PostgreSQL is read from the database, then from the cache', async () => {
  harness = await startHarness()
  const key = harness.key('through')
  await harness.prisma.deployableUsage.create({ data: { deployableUuid: key, version: 12n, metrics: { power_w: 75 } } })
  expect(await harness.client.call({ entity: 'usage', key })).toEqual({ found: true, value: { power_w: 75 }, version: 12, source: 'db' })
  expect(await harness.client.call({ entity: 'usage', key })).toEqual({ found: true, value: { power_w: 75 }, version: 12, source: 'cache' })
})

test('a key that exists nowhere is not found', async () => {
  harness = await startHarness()
  expect(await harness.client.call({ entity: 'usage', key: harness.key('nowhere') })).toEqual({
    found: false,
    value: null,
    version: null,
    source: 'db',
  })
})

test('an invalid read job fails with the field and the problem', async () => {
  harness = await startHarness()
  const job = await harness.readQueue.add(READ_JOB, { entity: 'gpu', key: '' })
  const { failedReason } = await harness.outcome(harness.readQueue, job.id!)
  expect(failedReason).toBe('invalid read: entity: unknown entity "gpu"; registered: usage; key: must not be empty')
})

test('call gives up after its timeout when no conductor answers', async () => {
  harness = await startHarness({}, { start: false })
  await expect(harness.client.call({ entity: 'usage', key: harness.key('x') }, 300)).rejects.toThrow(/timed out/)
})

test('a call no conductor answers ends in a ConductorTimeoutError even when the wall clock does not keep pace with the timers', async () => {
  harness = await startHarness({}, { start: false })
  // Timers run on the monotonic clock, Date.now() on the wall clock, which an NTP step can set back or a busy
  // moment leave a millisecond behind. Frozen here: a deadline judged by Date.now() would never come, and
  // BullMQ's own wait timer would end the call with BullMQ's untyped error (as it once did in CI).
  vi.useFakeTimers({ toFake: ['Date'] })
  try {
    const reading = harness.client.call({ entity: 'usage', key: harness.key('x') }, 300)
    await expect(reading).rejects.toBeInstanceOf(ConductorTimeoutError)
  } finally {
    vi.useRealTimers()
  }
})
