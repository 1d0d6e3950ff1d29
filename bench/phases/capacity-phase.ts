import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { openCache } from '../../src/cache/open-cache.ts'
import { ConductorClient } from '../../src/queues/conductor-client.ts'
import { WRITE_QUEUE } from '../../src/queues/names.ts'
import { KEEP_COMPLETED } from '../../src/workers/conductor.ts'
import { AgentFleet } from '../agent-fleet.ts'
import type { BenchContext } from '../bench-context.ts'
import { ServerProcess } from '../server-process.ts'

export interface DrainResult {
  jobs: number
  /** Usage updates those jobs carry. */
  updates: number
  /** How fast the agents filled the queue (their own enqueue rate, for reference). */
  enqueuedPerSecond: number
  seconds: number
  jobsPerSecond: number
  timeline: { second: number; jobsPerSecond: number }[]
}

export interface ConductorDrain extends DrainResult {
  /** Conductor processes that drained the queue together. */
  conductors: number
  accepted: number
  stale: number
  acceptedPerSecond: number
}

const POLL_MS = 100

/**
 * The queue's own ceiling: the same write-batch jobs the agents send, drained by a worker that
 * does nothing, with the conductor's concurrency and retention.
 */
export async function runRawQueueCapacity(context: BenchContext): Promise<DrainResult> {
  const prefix = `${context.config.CONDUCTOR_PREFIX}-raw`
  const filled = await prefill(context, prefix)
  const connection = new Redis(context.config.REDIS_URL, { maxRetriesPerRequest: null })
  let worker: Worker | undefined
  try {
    return await drain(context, 'raw queue (no-op)', prefix, filled, async () => {
      worker = new Worker(WRITE_QUEUE, async () => undefined, {
        connection,
        prefix,
        concurrency: context.config.WRITE_CONCURRENCY,
        removeOnComplete: KEEP_COMPLETED,
      })
    })
  } finally {
    await worker?.close()
    connection.disconnect()
  }
}

/**
 * `--conductors` conductor processes (src/server.ts, as `npm start` runs it) draining the same number
 * of jobs together: validation, accept in Lua, and the flushes of the shards running alongside. They
 * start before the queue is filled, with the queue paused, so their start-up is not measured.
 */
export async function runConductorCapacity(context: BenchContext): Promise<ConductorDrain> {
  const { config, options, redis } = context
  const { buffer } = openCache(redis, config)
  const queue = new Queue(WRITE_QUEUE, { connection: redis, prefix: config.CONDUCTOR_PREFIX })
  const env = {
    REDIS_URL: config.REDIS_URL,
    DATABASE_URL: config.DATABASE_URL,
    CONDUCTOR_PREFIX: config.CONDUCTOR_PREFIX,
    FLUSH_INTERVAL_MS: String(config.FLUSH_INTERVAL_MS),
    FLUSH_BATCH_MAX: String(config.FLUSH_BATCH_MAX),
    FLUSH_SHARDS: String(config.FLUSH_SHARDS),
    LOG_LEVEL: 'warn',
  }
  const conductors: ServerProcess[] = []
  try {
    await queue.pause()
    for (let i = 0; i < options.conductors; i++) conductors.push(await ServerProcess.start(env))
    const filled = await prefill(context, config.CONDUCTOR_PREFIX)
    const before = await buffer.stats('usage')
    const result = await drain(context, `conductor writes (${options.conductors} processes)`, config.CONDUCTOR_PREFIX, filled, () => queue.resume())
    const after = await buffer.stats('usage')
    const accepted = after.accepted - before.accepted
    return { ...result, conductors: options.conductors, accepted, stale: after.stale - before.stale, acceptedPerSecond: accepted / result.seconds }
  } finally {
    await queue.resume()
    await Promise.all(conductors.map((conductor) => conductor.stop()))
    await queue.close()
  }
}

interface Filled {
  jobs: number
  updates: number
  seconds: number
}

/** `capacityRounds` reports of every agent, queued before any worker runs. */
async function prefill(context: BenchContext, prefix: string): Promise<Filled> {
  const { options, config, redis } = context
  const client = new ConductorClient({ connection: redis, prefix, readTimeoutMs: config.READ_TIMEOUT_MS })
  const fleet = new AgentFleet({ hostPrefix: context.hostPrefix, agents: options.agents, devices: options.devices, transport: client, log: context.log })
  const started = performance.now()
  try {
    for (let round = 0; round < options.capacityRounds; round++) await fleet.reportOnce()
  } finally {
    await client.close()
  }
  const jobs = options.agents * options.capacityRounds
  return { jobs, updates: jobs * options.devices, seconds: (performance.now() - started) / 1000 }
}

async function drain(context: BenchContext, name: string, prefix: string, filled: Filled, start: () => Promise<void>): Promise<DrainResult> {
  const queue = new Queue(WRITE_QUEUE, { connection: context.redis, prefix })
  const remaining = async () => {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
    return Object.values(counts).reduce((sum, count) => sum + count, 0)
  }
  try {
    context.progress.line(name, { queued: filled.jobs, 'enqueued/s': filled.jobs / filled.seconds })
    const perSecond: number[] = []
    const started = performance.now()
    await start()
    let done = 0
    let lastLine = started
    let lastDone = 0
    while (done < filled.jobs) {
      await sleep(POLL_MS)
      const now = performance.now()
      const nowDone = filled.jobs - (await remaining())
      const second = Math.floor((now - started) / 1000)
      perSecond[second] = (perSecond[second] ?? 0) + (nowDone - done)
      done = nowDone
      if (now - lastLine >= 1000) {
        context.progress.line(name, { 'jobs/s': ((done - lastDone) * 1000) / (now - lastLine), left: filled.jobs - done })
        lastLine = now
        lastDone = done
      }
    }
    const seconds = (performance.now() - started) / 1000
    return {
      jobs: filled.jobs,
      updates: filled.updates,
      enqueuedPerSecond: filled.jobs / filled.seconds,
      seconds,
      jobsPerSecond: filled.jobs / seconds,
      timeline: Array.from({ length: perSecond.length }, (_, second) => ({ second, jobsPerSecond: perSecond[second] ?? 0 })),
    }
  } finally {
    await queue.close()
  }
}
