import autocannon from 'autocannon'
import { pino } from 'pino'
import { ConductorClient } from '../../src/queues/conductor-client.ts'
import { Conductor } from '../../src/workers/conductor.ts'
import { createPrismaClient } from '../../src/workers/prisma-client.ts'
import type { BenchContext } from '../bench-context.ts'
import { closedLoop, type LoadResult } from '../closed-loop.ts'
import { summarize } from '../latency-summary.ts'
import { ServerProcess } from '../server-process.ts'

export interface ReadFigures {
  readQueue: LoadResult
  http: LoadResult & { connections: number }
  findUnique: LoadResult
}

/** Cached reads of the fleet's keys three ways, each for `readS`: read queue, HTTP API, and Prisma straight to PostgreSQL. */
export async function runReadPhase(context: BenchContext): Promise<ReadFigures> {
  const { options, config, redis, keys, progress, db } = context
  const key = (index: number) => keys[index % keys.length]!

  const conductor = await Conductor.start({ config, log: pino({ level: 'warn' }) })
  const client = new ConductorClient({ connection: redis, prefix: config.CONDUCTOR_PREFIX, readTimeoutMs: config.READ_TIMEOUT_MS })
  let readQueue: LoadResult
  try {
    progress.line('reads: read queue', { concurrency: options.readConcurrency, seconds: options.readS })
    readQueue = await closedLoop(options.readS, options.readConcurrency, async (index) => {
      const result = await client.call({ entity: 'usage', key: key(index) })
      if (!result.found) throw new Error(`read queue: ${key(index)} not found`)
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

  const server = await ServerProcess.start({
    REDIS_URL: config.REDIS_URL,
    DATABASE_URL: config.DATABASE_URL,
    CONDUCTOR_PREFIX: config.CONDUCTOR_PREFIX,
    FLUSH_INTERVAL_MS: String(config.FLUSH_INTERVAL_MS),
    FLUSH_SHARDS: String(config.FLUSH_SHARDS),
    LOG_LEVEL: 'warn',
  })
  try {
    progress.line('reads: HTTP', { connections: options.httpConnections, seconds: options.readS })
    const http = await httpLoad(server.url, server.headers, options.readS, options.httpConnections, key)
    return { readQueue, findUnique, http }
  } finally {
    await server.stop()
  }
}

/** autocannon on GET /conductor/entities/usage/:key; latencies taken per response, in fractions of a millisecond. */
async function httpLoad(url: string, headers: Record<string, string>, seconds: number, connections: number, key: (index: number) => string): Promise<LoadResult & { connections: number }> {
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
