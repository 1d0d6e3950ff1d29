import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { pino } from 'pino'
import { ConductorClient } from '../../src/queues/client/conductor-client.ts'
import { Conductor } from '../../src/conductor.ts'
import { createPrismaClient } from '../../src/db/prisma-client.ts'
import type { BenchContext } from '../bench-context.ts'
import { closedLoop, type LoadResult } from '../closed-loop.ts'
import { monotonicUs, summarizeProfile, type ProfileSummary } from '../cpu-profile.ts'
import { summarize } from '../latency-summary.ts'
import { pacedLoop } from '../paced-loop.ts'
import { commandStats, perJob } from '../redis-commands.ts'
import { ServerProcess } from '../server-process.ts'

/** Latency at a fixed offered rate: half and nine tenths of the measured maximum. */
export interface PacedReads {
  at50: LoadResult
  at90: LoadResult
}

export interface ReadFigures {
  /** At saturation: the maximum rate (closed loop). */
  readQueue: LoadResult
  readQueuePaced: PacedReads
  /**
   * At 50% of the maximum, where the bench process holds the client and the conductor: its event loop's
   * delay (ms: a stall of the process itself shows here) and Redis's time per read by command.
   */
  readQueueAt50: { eventLoopDelay: { p50: number; p99: number; max: number }; redisCommands: ReturnType<typeof perJob> }
  http: LoadResult & { connections: number }
  httpPaced: PacedReads
  /** Where the API process's CPU went at the maximum HTTP rate, from its own CPU profile. */
  httpProfile: ProfileSummary
  findUnique: LoadResult
}

/** Cached reads of the fleet's keys three ways, each for `readS`: read queue, HTTP API, and Prisma straight to PostgreSQL. */
export async function runReadPhase(context: BenchContext): Promise<ReadFigures> {
  const { options, config, redis, keys, progress, db } = context
  const key = (index: number) => keys[index % keys.length]!

  const conductor = await Conductor.start({ config, log: pino({ level: 'warn' }) })
  const client = new ConductorClient({ connection: redis, prefix: config.CONDUCTOR_PREFIX, readTimeoutMs: config.READ_TIMEOUT_MS })
  let readQueue: LoadResult
  let readQueuePaced: PacedReads
  let readQueueAt50: ReadFigures['readQueueAt50']
  const readThroughQueue = async (index: number) => {
    const result = await client.call({ entity: 'usage', key: key(index) })
    if (!result.found) throw new Error(`read queue: ${key(index)} not found`)
  }
  try {
    progress.line('reads: read queue', { concurrency: options.readConcurrency, seconds: options.readS })
    readQueue = await closedLoop(options.readS, options.readConcurrency, readThroughQueue)
    const delay = monitorEventLoopDelay({ resolution: 1 })
    const commandsBefore = await commandStats(redis)
    readQueuePaced = await atFractionsOf(readQueue.perSecond, async (rate, fraction) => {
      progress.line('reads: read queue, fixed rate', { 'reads/s': rate, seconds: options.readS })
      if (fraction === 0.5) delay.enable()
      const paced = await pacedLoop(options.readS, rate, readThroughQueue)
      if (fraction === 0.5) {
        delay.disable()
        const ms = (ns: number) => +(ns / 1e6).toFixed(2)
        readQueueAt50 = {
          eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
          redisCommands: perJob(commandsBefore, await commandStats(redis), paced.operations),
        }
      }
      return paced
    })
  } finally {
    await client.close()
    await conductor.close()
  }

  const prisma = createPrismaClient(db.url)
  let findUnique: LoadResult
  try {
    progress.line('reads: findUnique', { concurrency: options.readConcurrency, seconds: options.readS })
    findUnique = await closedLoop(options.readS, options.readConcurrency, async (index) => {
      const row = await prisma.deployableUsage.findUnique({ where: { deployableUuid: key(index) } })
      if (!row) throw new Error(`findUnique: ${key(index)} not found`)
    })
  } finally {
    await prisma.$disconnect()
  }

  const profileDir = await mkdtemp(join(tmpdir(), 'bench-profile-'))
  try {
    const server = await ServerProcess.start(
      {
        REDIS_URL: config.REDIS_URL,
        DATABASE_URL: config.DATABASE_URL,
        CONDUCTOR_PREFIX: config.CONDUCTOR_PREFIX,
        FLUSH_INTERVAL_MS: String(config.FLUSH_INTERVAL_MS),
        FLUSH_SHARDS: String(config.FLUSH_SHARDS),
        LOG_LEVEL: 'warn',
      },
      profileDir,
    )
    let http: ReadFigures['http']
    let httpPaced: PacedReads
    const window = { startUs: 0, endUs: 0 }
    try {
      progress.line('reads: HTTP', { connections: options.httpConnections, seconds: options.readS })
      window.startUs = monotonicUs()
      http = await httpLoad(server.url, server.headers, options.readS, options.httpConnections, key)
      window.endUs = monotonicUs()
      httpPaced = await atFractionsOf(http.perSecond, async (rate) => {
        progress.line('reads: HTTP, fixed rate', { 'reads/s': rate, seconds: options.readS })
        return httpLoad(server.url, server.headers, options.readS, options.httpConnections, key, rate)
      })
    } finally {
      // The profile is written when the process exits.
      await server.stop()
    }
    return { readQueue, readQueuePaced, readQueueAt50: readQueueAt50!, findUnique, http, httpPaced, httpProfile: await summarizeProfile(profileDir, window) }
  } finally {
    await rm(profileDir, { recursive: true, force: true })
  }
}

async function atFractionsOf(maximum: number, load: (ratePerSecond: number, fraction: number) => Promise<LoadResult>): Promise<PacedReads> {
  return { at50: await load(Math.max(1, Math.round(maximum * 0.5)), 0.5), at90: await load(Math.max(1, Math.round(maximum * 0.9)), 0.9) }
}

/**
 * autocannon on GET /conductor/entities/usage/:key; latencies taken per response, in fractions of a
 * millisecond. With `overallRate` it offers that many requests a second over all connections.
 */
async function httpLoad(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections: number,
  key: (index: number) => string,
  overallRate?: number,
): Promise<LoadResult & { connections: number }> {
  const latencies: number[] = []
  let next = 0
  let failures = 0
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        headers,
        connections,
        duration: seconds,
        ...(overallRate !== undefined && { overallRate }),
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/conductor/entities/usage/${key(next++)}` }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latencies.push(responseTime)
      else failures += 1
    })
  })
  if (failures > 0 || result.errors > 0) throw new Error(`HTTP reads: ${failures} non-200 responses and ${result.errors} errors`)
  return { operations: latencies.length, perSecond: latencies.length / seconds, latency: summarize(latencies), connections }
}
