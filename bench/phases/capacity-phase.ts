import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { ConductorClient } from '../../src/queues/client/conductor-client.ts'
import { WRITE_QUEUE } from '../../src/queues/contract/names.ts'
import { keepCompleted, openStores } from '../../src/conductor.ts'
import { AgentFleet } from '../agent-fleet.ts'
import type { BenchContext } from '../bench-context.ts'
import { ownCpu, processCpu, readClocks, redisCpu, type CpuClock } from '../cpu-meter.ts'
import { monotonicUs, summarizeProfile, type ProfileSummary, type ProfileWindow } from '../cpu-profile.ts'
import { commandStats, perJob } from '../redis-commands.ts'
import { ServerProcess } from '../server-process.ts'

export interface DrainResult {
  /** The measured drain, after a warm-up drain of `warmUp.jobs` that also sized it. */
  jobs: number
  /** Usage updates those jobs carry. */
  updates: number
  /** How fast the agents filled the queue (their own enqueue rate, for reference). */
  enqueuedPerSecond: number
  seconds: number
  /** The steady-state rate: the measured drain only, the warm-up (JIT, connections) left out. */
  jobsPerSecond: number
  warmUp: { jobs: number; seconds: number; jobsPerSecond: number }
  /** CPU seconds over the measured drain: the worker's process (the conductor, or the bench's no-op worker), and Redis. */
  cpu: { workerSeconds: number; redisSeconds: number }
  /** Redis's time per job by command over the measured drain. */
  redisCommands: ReturnType<typeof perJob>
  /** The measured drain on the monotonic clock, for a CPU profile of it. */
  window: ProfileWindow
  timeline: { second: number; jobsPerSecond: number }[]
}

export interface ConductorDrain extends DrainResult {
  /** Conductor processes that drained the queue together. */
  conductors: number
  accepted: number
  stale: number
  acceptedPerSecond: number
  /** Where the (first) conductor process's CPU went over the measured drain, from its own CPU profile. */
  profile: ProfileSummary
}

const POLL_MS = 100
// Queued jobs wait whole in Redis (about 2 KB each with 8 writes): a drain never queues more than this (about 480 MB).
const MAX_DRAIN_JOBS = 240_000

/**
 * The queue's own ceiling: the same write-batch jobs the agents send, drained by a worker that
 * does nothing, with the conductor's concurrency and retention.
 */
export async function runRawQueueCapacity(context: BenchContext): Promise<DrainResult> {
  const prefix = `${context.config.CONDUCTOR_PREFIX}-raw`
  const queue = new Queue(WRITE_QUEUE, { connection: context.redis, prefix })
  const connection = new Redis(context.config.REDIS_URL, { maxRetriesPerRequest: null })
  let worker: Worker | undefined
  try {
    await queue.pause()
    worker = new Worker(WRITE_QUEUE, async () => undefined, {
      connection,
      prefix,
      concurrency: context.config.WRITE_CONCURRENCY,
      removeOnComplete: keepCompleted(context.config),
    })
    return await measureDrain(context, 'raw queue (no-op)', prefix, queue, ownCpu)
  } finally {
    await queue.resume()
    await worker?.close()
    await queue.close()
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
  const { buffer } = openStores(redis, config)
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
  const profileDir = await mkdtemp(join(tmpdir(), 'bench-profile-'))
  let drained: Omit<ConductorDrain, 'profile'>
  try {
    await queue.pause()
    for (let i = 0; i < options.conductors; i++) conductors.push(await ServerProcess.start(env, i === 0 ? profileDir : undefined))
    const conductorsCpu = async () => (await readClocks(conductors.map((conductor) => processCpu(conductor.pid)))).reduce((sum, seconds) => sum + seconds, 0)
    let before = await buffer.stats('usage')
    const result = await measureDrain(
      context,
      `conductor writes (${options.conductors} processes)`,
      config.CONDUCTOR_PREFIX,
      queue,
      conductorsCpu,
      async () => {
        before = await buffer.stats('usage')
      },
    )
    const after = await buffer.stats('usage')
    const accepted = after.accepted - before.accepted
    drained = { ...result, conductors: options.conductors, accepted, stale: after.stale - before.stale, acceptedPerSecond: accepted / result.seconds }
  } finally {
    await queue.resume()
    await Promise.all(conductors.map((conductor) => conductor.stop()))
    await queue.close()
  }
  // The profile is written when the process exits.
  try {
    return { ...drained, profile: await summarizeProfile(profileDir, drained.window) }
  } finally {
    await rm(profileDir, { recursive: true, force: true })
  }
}

/**
 * Two drains of a paused queue whose workers are already running: a warm-up of `capacityRounds`
 * reports per agent (JIT, connections, first sight of every key), whose rate sizes the measured
 * drain to last `drainS` (at most MAX_DRAIN_JOBS jobs). Only the measured drain gives the rate.
 */
async function measureDrain(
  context: BenchContext,
  name: string,
  prefix: string,
  queue: Queue,
  workerCpu: CpuClock,
  beforeMeasured?: () => Promise<void>,
): Promise<DrainResult> {
  const { options } = context
  const warmFilled = await prefill(context, prefix, options.capacityRounds)
  const warm = await drain(context, `${name}, warm-up`, prefix, warmFilled, () => queue.resume())
  await queue.pause()
  const jobsWanted = Math.min(MAX_DRAIN_JOBS, calibratedRate(warm) * options.drainS)
  const rounds = Math.max(options.capacityRounds, Math.ceil(jobsWanted / options.agents))
  const filled = await prefill(context, prefix, rounds)
  await beforeMeasured?.()
  const clocks = [workerCpu, redisCpu(context.redis)]
  const [workerBefore = 0, redisBefore = 0] = await readClocks(clocks)
  const commandsBefore = await commandStats(context.redis)
  const startUs = monotonicUs()
  const measured = await drain(context, name, prefix, filled, () => queue.resume())
  const endUs = monotonicUs()
  const [workerAfter = 0, redisAfter = 0] = await readClocks(clocks)
  return {
    ...measured,
    warmUp: { jobs: warm.jobs, seconds: warm.seconds, jobsPerSecond: warm.jobsPerSecond },
    cpu: { workerSeconds: workerAfter - workerBefore, redisSeconds: redisAfter - redisBefore },
    redisCommands: perJob(commandsBefore, await commandStats(context.redis), measured.jobs),
    window: { startUs, endUs },
  }
}

/**
 * The warm-up's fastest whole second (its average when it lasted under two): the average counts the
 * first seconds' JIT, connections and first sight of every key, and sized the measured drain short
 * (a run's conductor drain lasted 14.9 s of the 20 wanted).
 */
function calibratedRate(warm: Drained): number {
  const wholeSeconds = warm.timeline.slice(0, Math.floor(warm.seconds)).map((second) => second.jobsPerSecond)
  return Math.max(warm.jobsPerSecond, ...wholeSeconds)
}

interface Filled {
  jobs: number
  updates: number
  seconds: number
}

/** `capacityRounds` reports of every agent, queued before any worker runs. */
async function prefill(context: BenchContext, prefix: string, rounds: number): Promise<Filled> {
  const { options, config, redis } = context
  const client = new ConductorClient({ connection: redis, prefix, readTimeoutMs: config.READ_TIMEOUT_MS })
  const fleet = new AgentFleet({ hostPrefix: context.hostPrefix, agents: options.agents, devices: options.devices, transport: client, log: context.log })
  const started = performance.now()
  try {
    for (let round = 0; round < rounds; round++) await fleet.reportOnce()
  } finally {
    await client.close()
  }
  const jobs = options.agents * rounds
  return { jobs, updates: jobs * options.devices, seconds: (performance.now() - started) / 1000 }
}

type Drained = Omit<DrainResult, 'warmUp' | 'cpu' | 'redisCommands' | 'window'>

async function drain(context: BenchContext, name: string, prefix: string, filled: Filled, start: () => Promise<void>): Promise<Drained> {
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
