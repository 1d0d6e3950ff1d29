import { Queue, Worker, type Job } from 'bullmq'
import { pino, type Logger } from 'pino'
import type { Config } from '../config.ts'
import { connectRedis, queuePrefix, type RedisConnection } from '../redis-connection.ts'
import { viewKinds } from '../cache/view-cache.ts'
import type { EntityCache } from '../cache/entity-cache.ts'
import { openCache, type CacheAccess } from '../cache/open-cache.ts'
import type { WriteBuffer } from '../cache/write-buffer.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { ConductorMetrics } from '../metrics/conductor-metrics.ts'
import { entityNames, isEntityName } from '../queues/entities.ts'
import { COMMAND_QUEUE, FLUSH_JOB, FLUSH_QUEUE, INVENTORY_QUEUE, READ_QUEUE, WRITE_QUEUE } from '../queues/names.ts'
import { ArqService } from './arq-service.ts'
import { CommandProcessor } from './command-processor.ts'
import { DeviceProfileService } from './device-profile-service.ts'
import { InventoryProcessor } from './inventory-processor.ts'
import { InventoryQueryService } from './inventory-query-service.ts'
import { InventoryStore } from './inventory-store.ts'
import { EntityStore } from './entity-store.ts'
import { Flusher, type FlushCommitListener, type FlushOutcome } from './flusher.ts'
import { createPrismaClient } from './prisma-client.ts'
import { ReadProcessor } from './read-processor.ts'
import { ReadThrough } from './read-through.ts'
import { WriteProcessor } from './write-processor.ts'

export interface ConductorOptions {
  config: Config
  /** A client of the caller's (tests count its queries); the conductor creates and owns one otherwise. */
  prisma?: PrismaClient
  log?: Logger
  /** Where the workers count their jobs and flushes; the HTTP API serves them at /metrics. */
  metrics?: ConductorMetrics
  /** Told of every committed flush transaction (the benchmark measures accept→durable with it). */
  onFlushCommitted?: FlushCommitListener
}

// Completed jobs are kept briefly for Bull Board; failed ones a week, with their reasons.
export const KEEP_COMPLETED = { age: 3600, count: 1000 }
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 10_000 }

/**
 * The conductor's workers: write and read job processors, the scheduled flush of each entity,
 * inventory reconciliation and the device-profile and ARQ commands.
 * Any number of conductors may run against the same Redis and PostgreSQL.
 */
export class Conductor {
  readonly buffer: WriteBuffer
  readonly cache: EntityCache
  readonly flusher: Flusher
  readonly reads: ReadProcessor
  private readonly workers: Worker[]
  private readonly flushQueue: Queue

  private constructor(
    private readonly config: Config,
    private readonly prisma: PrismaClient,
    private readonly ownsPrisma: boolean,
    private readonly queueConnection: RedisConnection,
    private readonly commandConnection: RedisConnection,
    caches: CacheAccess,
    private readonly log: Logger,
    metrics: ConductorMetrics | undefined,
    onFlushCommitted: FlushCommitListener | undefined,
  ) {
    const store = new EntityStore()
    this.buffer = caches.buffer
    this.cache = caches.cache
    const readThrough = new ReadThrough(prisma, store, this.cache)
    this.reads = new ReadProcessor(this.cache, readThrough)
    this.flusher = new Flusher(
      prisma,
      store,
      this.buffer,
      {
        batchMax: config.FLUSH_BATCH_MAX,
        timeoutMs: config.FLUSH_TIMEOUT_MS,
        deadLetterMax: config.DEAD_LETTER_MAX,
        retryFirstDelayMs: config.FLUSH_INTERVAL_MS,
        retryMaxDelayMs: config.FLUSH_RETRY_MAX_MS,
        faultPoint: config.FAULT_INJECT,
      },
      log,
      onFlushCommitted,
    )
    const writes = new WriteProcessor(this.buffer, readThrough, config.WRITE_VALUE_MAX_BYTES)
    const inventory = new InventoryProcessor(prisma, new InventoryStore(), caches.inventory, this.buffer, log)
    const commands = new CommandProcessor(new DeviceProfileService(prisma, caches.views), new ArqService(prisma, caches.views), new InventoryQueryService(prisma))
    const common = {
      connection: queueConnection,
      prefix: queuePrefix(config),
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
      lockDuration: config.JOB_LOCK_MS,
      stalledInterval: config.JOB_LOCK_MS,
    }
    this.flushQueue = new Queue(FLUSH_QUEUE, { connection: queueConnection, prefix: queuePrefix(config) })
    this.workers = [
      new Worker(WRITE_QUEUE, (job) => writes.process(job), { ...common, concurrency: config.WRITE_CONCURRENCY }),
      new Worker(READ_QUEUE, (job) => this.reads.process(job), { ...common, concurrency: config.READ_CONCURRENCY }),
      // Every shard of every entity can flush at once in one process; each shard's lease keeps it to one flush.
      new Worker(FLUSH_QUEUE, (job) => this.processFlush(job), { ...common, concurrency: entityNames.length * config.FLUSH_SHARDS }),
      new Worker(INVENTORY_QUEUE, (job) => inventory.process(job), { ...common, concurrency: config.INVENTORY_CONCURRENCY }),
      new Worker(COMMAND_QUEUE, (job) => commands.process(job), { ...common, concurrency: config.COMMAND_CONCURRENCY }),
    ]
    for (const worker of this.workers) {
      worker.on('failed', (job, error) => log.warn({ queue: worker.name, job: job?.id, name: job?.name, reason: error.message }, 'job failed'))
      worker.on('error', (error) => log.error({ queue: worker.name, err: error }, 'worker error'))
      metrics?.watchWorker(worker)
    }
  }

  static async start(options: ConductorOptions): Promise<Conductor> {
    const { config } = options
    const log = options.log ?? pino({ level: config.LOG_LEVEL })
    const commandConnection = connectRedis(config)
    const caches = openCache(commandConnection, config)
    // Before any worker runs: a FLUSH_SHARDS that would strand pending writes stops the start here.
    try {
      await caches.buffer.adoptShardCount(entityNames, [...entityNames, ...viewKinds])
    } catch (error) {
      commandConnection.disconnect()
      throw error
    }
    const queueConnection = connectRedis(config, { maxRetriesPerRequest: null })
    const prisma = options.prisma ?? createPrismaClient(config.DATABASE_URL)
    const conductor = new Conductor(config, prisma, !options.prisma, queueConnection, commandConnection, caches, log, options.metrics, options.onFlushCommitted)
    await conductor.schedule()
    log.info(
      { prefix: config.CONDUCTOR_PREFIX, flushIntervalMs: config.FLUSH_INTERVAL_MS, flushBatchMax: config.FLUSH_BATCH_MAX, flushShards: config.FLUSH_SHARDS },
      'conductor started',
    )
    return conductor
  }

  /**
   * One job scheduler per shard of each entity, `flush:<entity>:<shard>`: several conductors upsert
   * the same ones, so one flush job per shard runs per interval. Schedulers of shards no longer used
   * (FLUSH_SHARDS lowered, or the unsharded `flush:<entity>` of earlier versions) are removed.
   */
  private async schedule(): Promise<void> {
    const wanted = entityNames.flatMap((entity) => Array.from({ length: this.config.FLUSH_SHARDS }, (_, shard) => ({ entity, shard, id: `flush:${entity}:${shard}` })))
    for (const scheduler of await this.flushQueue.getJobSchedulers(0, -1)) {
      if (!wanted.some(({ id }) => id === scheduler.key)) await this.flushQueue.removeJobScheduler(scheduler.key)
    }
    for (const { entity, shard, id } of wanted) {
      // BullMQ keeps the old schedule's offset when `every` changes, which can put the next flush up to
      // the old interval away: a scheduler of another interval is replaced, not updated.
      const current = await this.flushQueue.getJobScheduler(id)
      if (current && current.every !== this.config.FLUSH_INTERVAL_MS) await this.flushQueue.removeJobScheduler(id)
      await this.flushQueue.upsertJobScheduler(
        id,
        { every: this.config.FLUSH_INTERVAL_MS },
        { name: FLUSH_JOB, data: { entity, shard }, opts: { removeOnComplete: { count: 100 }, removeOnFail: KEEP_FAILED } },
      )
    }
  }

  private async processFlush(job: Job): Promise<FlushOutcome | { backoffMs: number }> {
    const { entity, shard } = job.data as { entity?: unknown; shard?: unknown }
    if (typeof entity !== 'string' || !isEntityName(entity)) throw new Error(`flush job without a registered entity: ${JSON.stringify(job.data)}`)
    if (!Number.isInteger(shard) || (shard as number) < 0 || (shard as number) >= this.config.FLUSH_SHARDS) {
      throw new Error(`flush job without a shard below FLUSH_SHARDS (${this.config.FLUSH_SHARDS}): ${JSON.stringify(job.data)}`)
    }
    // After a failed flush (PostgreSQL down) the scheduled ones wait out the back-off rather than retry every interval.
    const backoffMs = await this.buffer.flushBackoffMs(entity, shard as number)
    if (backoffMs > 0) return { backoffMs }
    const outcome = await this.flusher.flush(entity, shard as number)
    if (outcome.transactions > 0) this.log.debug({ entity, shard, ...outcome }, 'flushed')
    return outcome
  }

  /**
   * Stops taking jobs, waits for those running, flushes everything still pending (waiting while
   * another conductor's flush holds a lease), then closes the connections.
   */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()))
    const deadline = Date.now() + 2 * this.config.FLUSH_TIMEOUT_MS + 5000
    for (const entity of entityNames) {
      for (let shard = 0; shard < this.config.FLUSH_SHARDS; shard++) {
        while ((await this.buffer.unflushedCount(entity, shard)) > 0 && Date.now() < deadline) {
          const outcome = await this.flusher.flush(entity, shard).catch((error: unknown) => {
            this.log.error({ entity, shard, err: error }, 'final flush failed; the batch stays in Redis for the next conductor')
            return null
          })
          if (outcome === null) break
          if (outcome.busy) await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    }
    await this.flushQueue.close()
    await Promise.all([this.queueConnection.quit(), this.commandConnection.quit()])
    if (this.ownsPrisma) await this.prisma.$disconnect()
    this.log.info('conductor stopped')
  }
}
