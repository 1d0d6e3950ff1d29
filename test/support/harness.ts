import { randomBytes } from 'node:crypto'
import { PrismaPg } from '@prisma/adapter-pg'
import { Queue } from 'bullmq'
import { Cluster } from 'ioredis'
import { pino } from 'pino'
import { loadConfig, type Config } from '../../src/config.ts'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { ConductorClient } from '../../src/queues/client/conductor-client.ts'
import { COMMAND_QUEUE, FLUSH_QUEUE, INVENTORY_QUEUE, READ_QUEUE, WRITE_QUEUE } from '../../src/queues/contract/names.ts'
import { connectRedis, queuePrefix, type RedisConnection } from '../../src/redis/connection.ts'
import { Conductor, openStores } from '../../src/conductor.ts'
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.ts'
import { waitFor } from './wait-for.ts'

export type Settings = Partial<Record<keyof Config, string>>

/** A configuration of the test services under a prefix no other test uses. */
export function testConfig(settings: Settings = {}): Config {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: `t-${randomBytes(5).toString('hex')}`,
    LOG_LEVEL: 'error',
    ...settings,
  })
}

/** A Prisma client on the test database that counts the transactions and statements it sends. */
export function countingPrisma(databaseUrl = TEST_DATABASE_URL) {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }), log: [{ emit: 'event', level: 'query' }] })
  const counts = { commits: 0, statements: 0 }
  prisma.$on('query', (event) => {
    counts.statements += 1
    if (/^\s*COMMIT\b/i.test(event.query)) counts.commits += 1
  })
  return { prisma, counts }
}

/**
 * One conductor (or none, with `start: false`) on the real services (a Redis Cluster when the
 * settings name REDIS_CLUSTER_NODES), plus a producer client, and everything a test needs to clean
 * up after itself.
 */
export async function startHarness(settings: Settings = {}, { start = true } = {}) {
  const config = testConfig(settings)
  const prefix = config.CONDUCTOR_PREFIX
  const { prisma, counts } = countingPrisma()
  const redis = connectRedis(config, { maxRetriesPerRequest: null })
  const log = pino({ level: config.LOG_LEVEL })
  let conductor = start ? await Conductor.start({ config, prisma, log }) : undefined
  const queues = { connection: redis, prefix: queuePrefix(config) }
  const client = new ConductorClient({ ...queues, readTimeoutMs: config.READ_TIMEOUT_MS, caller: { role: 'admin' } })
  const { buffer, cache, views } = openStores(redis, config)
  const writeQueue = new Queue(WRITE_QUEUE, queues)
  const readQueue = new Queue(READ_QUEUE, queues)
  const flushQueue = new Queue(FLUSH_QUEUE, queues)
  const inventoryQueue = new Queue(INVENTORY_QUEUE, queues)
  const commandQueue = new Queue(COMMAND_QUEUE, queues)

  let closed = false
  const harness = {
    config,
    prefix,
    prisma,
    counts,
    redis,
    log,
    client,
    buffer,
    cache,
    views,
    writeQueue,
    readQueue,
    flushQueue,
    inventoryQueue,
    commandQueue,
    get conductor(): Conductor {
      if (!conductor) throw new Error('no conductor running in this harness')
      return conductor
    },
    /** A key of this test's own, so rows can be told apart and removed. */
    key: (name: string | number) => `${prefix}-${name}`,
    async startConductor(): Promise<Conductor> {
      conductor = await Conductor.start({ config, prisma, log })
      return conductor
    },
    async stopConductor(): Promise<void> {
      await conductor?.close()
      conductor = undefined
    },
    /** Stored rows of this test's keys, key → { version, metrics }. */
    async storedRows(): Promise<Map<string, { version: number; metrics: unknown }>> {
      const rows = await prisma.deployableUsage.findMany({ where: { deployableUuid: { startsWith: prefix } } })
      return new Map(rows.map((row) => [row.deployableUuid, { version: Number(row.version), metrics: row.metrics }]))
    },
    async waitForJobsDone(queue: Queue, what: string): Promise<void> {
      await waitFor(async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
        return Object.values(counts).every((count) => count === 0)
      }, what)
    },
    /** Waits for a job to finish: its return value, or its failed reason. */
    async outcome(queue: Queue, jobId: string): Promise<{ returnvalue?: unknown; failedReason?: string }> {
      return waitFor(async () => {
        // The state first: a job read before it finished would carry no result.
        const state = await queue.getJobState(jobId)
        if (state !== 'completed' && state !== 'failed') return undefined
        const job = (await queue.getJob(jobId))!
        return state === 'completed' ? { returnvalue: job.returnvalue } : { failedReason: job.failedReason }
      }, `job ${jobId} on ${queue.name} to finish`)
    },
    /** The schedulers' first flushes (one per shard) run at once; tests that need writes to stay pending wait them out. */
    async waitForFirstFlush(): Promise<void> {
      await waitFor(async () => (await flushQueue.getJobCounts('completed')).completed! >= config.FLUSH_SHARDS, 'the first scheduled flushes')
    },
    async waitForFlushed(entity = 'usage'): Promise<void> {
      await waitFor(async () => (await buffer.unflushedCount(entity)) === 0, 'every accepted write to be flushed')
    },
    /** Stops everything and removes what the test wrote; a second call does nothing. */
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await conductor?.close()
      await client.close()
      await Promise.all([writeQueue, readQueue, flushQueue, inventoryQueue, commandQueue].map((queue) => queue.close()))
      await prisma.deployableUsage.deleteMany({ where: { deployableUuid: { startsWith: prefix } } })
      // Hosts, device profiles and ARQs of this test carry its prefix in their names.
      await prisma.extArq.deleteMany({ where: { deviceProfile: { name: { startsWith: prefix } } } })
      await prisma.deviceProfile.deleteMany({ where: { name: { startsWith: prefix } } })
      await prisma.deployableUsage.deleteMany({ where: { deployableUuid: { in: await deployableUuidsOf(prisma, prefix) } } })
      await prisma.device.deleteMany({ where: { hostname: { startsWith: prefix } } })
      await prisma.$disconnect()
      // The queues' keys start with the braced prefix on a cluster.
      await deleteKeys(redis, `${prefix}:*`)
      await deleteKeys(redis, `{${prefix}}:*`)
      await redis.quit()
    },
  }
  return harness
}

export type Harness = Awaited<ReturnType<typeof startHarness>>

async function deployableUuidsOf(prisma: PrismaClient, prefix: string): Promise<string[]> {
  const deployables = await prisma.deployable.findMany({ where: { device: { hostname: { startsWith: prefix } } }, select: { uuid: true } })
  return deployables.map((deployable) => deployable.uuid)
}

/** Deletes the keys matching `pattern`, on every master of a cluster; one key per call, as their slots differ. */
async function deleteKeys(redis: RedisConnection, pattern: string): Promise<void> {
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      await Promise.all(keys.map((key) => redis.unlink(key)))
    } while (cursor !== '0')
  }
}

/**
 * A seeded generator of numbers in [0, 1), so a failing run can be replayed: mulberry32, in 32-bit
 * integer arithmetic (a textbook LCG in plain JavaScript numbers loses bits past 2^53 and cycles early).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** Fisher–Yates, with a seeded generator so a failing order can be replayed. */
export function shuffled<T>(items: T[], seed = 1): T[] {
  const result = [...items]
  const random = seededRandom(seed)
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[result[i], result[j]] = [result[j]!, result[i]!]
  }
  return result
}
