import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { afterEach, expect, test } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { processMemoryTerms, redisMemoryTerms, totalBytes } from '../../src/metrics/memory-budget.ts'
import { BackPressureError } from '../../src/queues/client/back-pressure-error.ts'
import { ConductorClient, writeLimitsOf } from '../../src/queues/client/conductor-client.ts'
import { WRITE_BATCH_JOB, WRITE_QUEUE } from '../../src/queues/contract/names.ts'
import { entityKeys } from '../../src/buffer/keys.ts'
import { waitFor } from '../support/wait-for.ts'
import { reportFigures } from './support/figures.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

// Small limits, so the worst case is reached in seconds.
const SETTINGS = {
  WRITE_VALUE_MAX_BYTES: '4096',
  JOB_MAX_BYTES: String(128 * 1024),
  JOB_KEPT_DATA_MAX_BYTES: '1024',
  JOBS_KEEP_COMPLETED: '20',
  JOBS_KEEP_FAILED: '20',
  CACHE_MAX_KEYS: '500',
  PENDING_MAX_KEYS: '500',
  WRITE_QUEUE_MAX_DEPTH: '30',
  FLUSH_BATCH_MAX: '200',
  DEAD_LETTER_MAX: '20',
  FLUSH_INTERVAL_MS: '200',
}
const KEYS = 2000
const OVERSIZED_BYTES = 50 * 1024 * 1024
const MB = 1024 * 1024

/** What Redis spends on the keys (MEMORY USAGE, every element counted); a missing key counts 0. */
async function memoryUsage(redis: Redis, keys: string[]): Promise<number> {
  const pipeline = redis.pipeline()
  for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0)
  const replies = (await pipeline.exec()) ?? []
  return replies.reduce((sum, [error, bytes]) => sum + (error ? 0 : Number(bytes ?? 0)), 0)
}

/** The process's resident memory, from /proc. */
function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb ?? 0) * 1024
}

test('memory is bounded: a full write queue of the largest jobs, more keys than the cache holds, invalid jobs beyond the kept count and a 50 MB job added directly keep Redis used_memory and the conductor RSS within the formula', async () => {
  rig = await startRig(SETTINGS)
  const conductor = rig.startConductor()
  await conductor.ready()
  const config = loadConfig(rig.env)
  const redis = rig.redisConnection
  const terms = new Map(redisMemoryTerms(config, { conductors: 1, hosts: 0 }).map((term) => [term.name, term.bytes]))
  const keys = entityKeys(rig.prefix, 'usage', 0)
  // Peaks while every producer keeps the limits, and while the 50 MB job is in Redis and taken; and of the buffer's
  // and the cache's own keys, each against its term.
  const peaks = { withinLimits: { redis: 0, rss: 0 }, oversized: { redis: 0, rss: 0 }, buffer: 0, cache: 0 }
  let phase: 'withinLimits' | 'oversized' = 'withinLimits'
  const sample = async () => {
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])
    const peak = peaks[phase]
    peak.redis = Math.max(peak.redis, used)
    if (conductor.running) peak.rss = Math.max(peak.rss, rssBytes(conductor.pid))
    peaks.buffer = Math.max(peaks.buffer, await memoryUsage(redis, [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues]))
    peaks.cache = Math.max(peaks.cache, await memoryUsage(redis, [keys.cacheVersions, keys.cacheValues, keys.cacheAccess]))
  }
  const sampler = setInterval(() => void sample().catch(() => undefined), 100)
  const connection = new Redis(rig.redis.url, { maxRetriesPerRequest: null })
  const client = new ConductorClient({ connection, prefix: rig.prefix, readTimeoutMs: 2000, writeLimits: writeLimitsOf(config) })
  try {
    // 1. The write queue filled to WRITE_QUEUE_MAX_DEPTH with jobs just under JOB_MAX_BYTES (held back a few seconds,
    // as when the workers lag), then more keys than CACHE_MAX_KEYS, each with the largest value, through the client
    // (back-pressure honoured).
    const value = { blob: 'x'.repeat(4000) }
    const backlog = Array.from({ length: 30 }, (_, job) => ({
      name: WRITE_BATCH_JOB,
      data: { writes: Array.from({ length: 31 }, (_, i) => ({ entity: 'usage', key: `${rig!.prefix}-d${job}-${i}`, version: 1, value })) },
      opts: { delay: 3000 },
    }))
    expect(JSON.stringify(backlog[0]!.data).length).toBeGreaterThan(120 * 1024)
    const held = await rig.writeQueue.addBulk(backlog)
    // The queue at its depth, of the largest jobs: its term bounds the jobs' keys.
    const queued = await memoryUsage(
      redis,
      held.map((job) => `${rig!.prefix}:${WRITE_QUEUE}:${job.id}`),
    )
    expect(queued).toBeLessThanOrEqual(terms.get('write queue')!)
    for (let start = 0; start < KEYS; start += 25) {
      const writes = Array.from({ length: 25 }, (_, i) => ({ entity: 'usage', key: `${rig!.prefix}-k${start + i}`, version: 1, value }))
      await waitFor(
        () =>
          client.castBatch(writes).then(
            () => true,
            (error: unknown) => {
              if (error instanceof BackPressureError) return undefined
              throw error
            },
          ),
        'room in the write queue',
        30_000,
      )
    }
    // The client refuses a job over JOB_MAX_BYTES before adding it.
    const tooLarge = Array.from({ length: 40 }, (_, i) => ({ entity: 'usage', key: `${rig!.prefix}-big${i}`, version: 1, value }))
    await expect(client.castBatch(tooLarge)).rejects.toThrow(/more than the 131072 allowed \(JOB_MAX_BYTES\)/)

    // 2. Invalid jobs of nearly JOB_MAX_BYTES, more than JOBS_KEEP_FAILED, added directly.
    const invalid = { writes: Array.from({ length: 30 }, () => ({ entity: 'nothing', key: 'k', version: 1, value: 'y'.repeat(4000) })) }
    const invalidJobs = await rig.writeQueue.addBulk(Array.from({ length: 60 }, () => ({ name: WRITE_BATCH_JOB, data: invalid })))
    await waitFor(async () => (await rig!.writeQueue.getJobState(invalidJobs.at(-1)!.id!)) === 'failed' || undefined, 'the invalid jobs to fail', 30_000)
    await rig.waitForFlushed(30_000)
    await sample()

    // 3. A 50 MB job added directly, past JOB_MAX_BYTES.
    phase = 'oversized'
    // The largest batch the contract's count allows, 5 KB values: 50 MB, which parsed and accepted took the process near 700 MB.
    const huge = {
      writes: Array.from({ length: 10_000 }, (_, i) => ({ entity: 'usage', key: `${rig!.prefix}-h${i}`, version: 1, value: { blob: 'z'.repeat(5200) } })),
    }
    const oversized = await rig.writeQueue.add(WRITE_BATCH_JOB, huge, { removeOnFail: false })
    const reason = await waitFor(async () => (await rig!.writeQueue.getJob(oversized.id!))?.failedReason, 'the 50 MB job to fail', 30_000)
    expect(reason).toMatch(/^job data is \d+ bytes of JSON, more than the 131072 allowed \(JOB_MAX_BYTES\); its data was dropped$/)
    expect((await rig.writeQueue.getJob(oversized.id!))!.data).toEqual({ droppedDataBytes: expect.any(Number) })

    await sample()

    // Kept jobs: at most the counts, and none holding data over JOB_KEPT_DATA_MAX_BYTES.
    const counts = await rig.writeQueue.getJobCounts('completed', 'failed')
    expect(counts.completed).toBeLessThanOrEqual(20)
    // The 50 MB job keeps itself (removeOnFail: false, its own option); the configured ones at most JOBS_KEEP_FAILED.
    expect(counts.failed).toBeLessThanOrEqual(21)
    const failed = await rig.writeQueue.getJobs(['failed'], 0, 100)
    expect(failed.every((job) => JSON.stringify(job.data).length <= 1024)).toBe(true)
    const kept = [...failed, ...(await rig.writeQueue.getJobs(['completed'], 0, 100))].map((job) => `${rig!.prefix}:${WRITE_QUEUE}:${job.id}`)
    expect(await memoryUsage(redis, kept)).toBeLessThanOrEqual(terms.get('kept jobs')!)
    expect(await memoryUsage(redis, [`${rig.prefix}:${WRITE_QUEUE}:events`])).toBeLessThanOrEqual(terms.get('events streams')!)
    // The cache: at most CACHE_MAX_KEYS keys, the coldest evicted; every key still readable (PostgreSQL has it).
    expect(await redis.hlen(keys.cacheVersions)).toBeLessThanOrEqual(500)
    expect(await redis.zcard(keys.cacheAccess)).toBeLessThanOrEqual(500)
    // Every accepted write reaches PostgreSQL, the jobs that waited out back-pressure included.
    await waitFor(
      async () => Object.values(await rig!.writeQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((count) => count === 0),
      'the write queue to drain',
      60_000,
    )
    await rig.waitForFlushed(30_000)
    expect((await rig.stored()).size).toBe(KEYS + 30 * 31)
  } finally {
    clearInterval(sampler)
    await client.close()
    await connection.quit()
  }

  const redisFormula = totalBytes([...terms].map(([name, bytes]) => ({ name, bytes })))
  const processFormula = totalBytes(processMemoryTerms(config))
  // The one term no setting bounds: the text of a job a producer added past JOB_MAX_BYTES, held for a moment by
  // Redis (the job, the reply carrying it) and by the process (measured, never parsed).
  const oversizedAllowance = 3 * OVERSIZED_BYTES
  const peakRedis = Math.max(peaks.withinLimits.redis, peaks.oversized.redis)
  console.log(
    `[faults] memory: within the limits peak Redis ${(peaks.withinLimits.redis / MB).toFixed(1)} MB of ${(redisFormula / MB).toFixed(1)} MB, ` +
      `conductor RSS ${(peaks.withinLimits.rss / MB).toFixed(1)} MB of ${(processFormula / MB).toFixed(1)} MB; with the 50 MB job Redis ` +
      `${(peaks.oversized.redis / MB).toFixed(1)} MB, RSS ${(peaks.oversized.rss / MB).toFixed(1)} MB (each allowed ${(oversizedAllowance / MB).toFixed(0)} MB more); ` +
      `buffer ${(peaks.buffer / MB).toFixed(1)} MB of ${(terms.get('write buffer')! / MB).toFixed(1)} MB, cache ${(peaks.cache / MB).toFixed(1)} MB of ${(terms.get('entity cache')! / MB).toFixed(1)} MB; ` +
      `Redis terms in KB ${JSON.stringify(Object.fromEntries([...terms].map(([name, bytes]) => [name, Math.round(bytes / 1024)])))}`,
  )
  reportFigures('memory', {
    peakRedisMemory: peakRedis,
    redisMemoryFormula: redisFormula + oversizedAllowance,
    keysChecked: KEYS + 30 * 31,
    lost: 0,
    regressed: 0,
  })
  expect(peaks.buffer).toBeLessThanOrEqual(terms.get('write buffer')!)
  expect(peaks.cache).toBeLessThanOrEqual(terms.get('entity cache')!)
  expect(peaks.withinLimits.redis).toBeLessThanOrEqual(redisFormula)
  expect(peaks.withinLimits.rss).toBeLessThanOrEqual(processFormula)
  expect(peaks.oversized.redis).toBeLessThanOrEqual(redisFormula + oversizedAllowance)
  expect(peaks.oversized.rss).toBeLessThanOrEqual(processFormula + oversizedAllowance)
})
