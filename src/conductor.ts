// The composition root: the one place that builds the conductor's object graph, for the workers
// (Conductor.start) and for the HTTP API (buildApi). Everything else receives what it needs.
import { Queue, type Processor, type Worker, type WorkerOptions } from 'bullmq'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { Registry } from 'prom-client'
import { buildApp, type ConductorAccess } from './api/app.ts'
import { ViewReader } from './api/view-reader.ts'
import { HostBinding } from './api/host-binding.ts'
import { EntityStore } from './buffer/entity-store.ts'
import { FlushScheduler } from './buffer/flush-scheduler.ts'
import { Flusher, type FlushCommitListener } from './buffer/flusher.ts'
import { WriteBuffer } from './buffer/write-buffer.ts'
import { WriteIntake } from './buffer/write-intake.ts'
import { EntityCache } from './cache/entity-cache.ts'
import { InventoryCache, type StoredHost } from './cache/inventory-cache.ts'
import { ReadThrough } from './cache/read-through.ts'
import { ViewCache } from './cache/view-cache.ts'
import type { Config } from './config.ts'
import { createPrismaClient } from './db/prisma-client.ts'
import type { PrismaClient } from './generated/prisma/client.ts'
import { ConductorMetrics } from './metrics/conductor-metrics.ts'
import { ArqService } from './objects/arq-service.ts'
import { DeviceProfileService } from './objects/device-profile-service.ts'
import { InventoryAdminService } from './objects/inventory-admin-service.ts'
import { InventoryQueryService } from './objects/inventory-query-service.ts'
import { InventoryReconciler } from './objects/inventory-reconciler.ts'
import { InventoryStore } from './objects/inventory-store.ts'
import { ConductorClient, writeLimitsOf } from './queues/client/conductor-client.ts'
import { entityNames, type EntityName } from './queues/contract/entities.ts'
import { keystoneSessionFrom } from './openstack/keystone-session.ts'
import { KeystoneTokenValidator } from './openstack/keystone-tokens.ts'
import { BindEventQueue, NOVA_EVENTS_QUEUE } from './openstack/bind-event-queue.ts'
import { NovaClient } from './openstack/nova-client.ts'
import { COMMAND_QUEUE, FLUSH_QUEUE, INVENTORY_QUEUE, READ_QUEUE, WRITE_QUEUE } from './queues/contract/names.ts'
import { placementBackoffMs } from './placement/placement-backoff.ts'
import { placementClient } from './placement/placement-connection.ts'
import { PlacementMetrics } from './placement/placement-metrics.ts'
import { PlacementSync } from './placement/placement-sync.ts'
import { PLACEMENT_SYNC_QUEUE, PlacementSyncQueue } from './placement/placement-sync-queue.ts'
import { ProviderRecord } from './placement/provider-record.ts'
import type { TokenSource } from './placement/token-source.ts'
import { connectRedis, queuePrefix, type RedisConnection } from './redis/connection.ts'
import { LuaScripts } from './redis/lua-scripts.ts'
import type { DurabilityReport } from './redis/durability.ts'
import { CommandProcessor } from './workers/command-processor.ts'
import { FlushProcessor } from './workers/flush-processor.ts'
import { InventoryProcessor } from './workers/inventory-processor.ts'
import { NovaEventProcessor } from './workers/nova-event-processor.ts'
import { PlacementSyncProcessor } from './workers/placement-sync-processor.ts'
import { ReadProcessor } from './workers/read-processor.ts'
import { deadLettersOf, WriteProcessor } from './workers/write-processor.ts'
import { TransientRetry } from './workers/transient-retry.ts'
import { BoundedWorker } from './workers/bounded-worker.ts'
import { IdempotentCommands } from './workers/idempotent-commands.ts'
import { withDeadline } from './deadline.ts'

/** The Redis side of one conductor prefix: the pending-write buffer and the caches, on one connection (or Redis Cluster). */
export interface RedisStores {
  buffer: WriteBuffer
  cache: EntityCache
  views: ViewCache
  inventory: InventoryCache
}

export function openStores(
  redis: RedisConnection,
  config: Pick<Config, 'CONDUCTOR_PREFIX' | 'PENDING_MAX_KEYS' | 'FLUSH_SHARDS' | 'CACHE_MAX_KEYS' | 'WRITE_VALUE_MAX_BYTES'>,
): RedisStores {
  const scripts = new LuaScripts(redis)
  const buffer = new WriteBuffer(redis, scripts, config.CONDUCTOR_PREFIX, config.PENDING_MAX_KEYS, config.FLUSH_SHARDS, config.CACHE_MAX_KEYS)
  return {
    buffer,
    cache: new EntityCache(scripts, buffer),
    views: new ViewCache(redis, scripts, config.CONDUCTOR_PREFIX, config.CACHE_MAX_KEYS, config.WRITE_VALUE_MAX_BYTES),
    inventory: new InventoryCache(redis, config.CONDUCTOR_PREFIX),
  }
}

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

// Completed jobs are kept an hour for Bull Board, failed ones a week with their reasons; at most
// JOBS_KEEP_COMPLETED and JOBS_KEEP_FAILED of each queue (docs/operations.md#memory: their bytes).
const KEEP_COMPLETED_S = 3600
const KEEP_FAILED_S = 7 * 24 * 3600
export const keepCompleted = (config: Pick<Config, 'JOBS_KEEP_COMPLETED'>) => ({ age: KEEP_COMPLETED_S, count: config.JOBS_KEEP_COMPLETED })
const WRITE_MAX_STALLED = 1000

/** How long a stopping conductor waits for its PostgreSQL pool to close. */
const POOL_CLOSE_MS = 2000

/**
 * The conductor's workers: write and read job processors, the scheduled flush of each entity,
 * inventory reconciliation and the device-profile and ARQ commands.
 * Any number of conductors may run against the same Redis and PostgreSQL.
 */
export class Conductor {
  private constructor(
    private readonly config: Config,
    readonly buffer: WriteBuffer,
    readonly flusher: Flusher,
    /** The read path's miss: what a `read` job runs. */
    readonly reads: ReadThrough,
    private readonly workers: Worker[],
    private readonly flushQueue: Queue,
    private readonly rescheduling: NodeJS.Timeout,
    private readonly placement: PlacementSyncParts | undefined,
    private readonly connections: RedisConnection[],
    private readonly ownedPrisma: PrismaClient | undefined,
    private readonly log: Logger,
  ) {}

  static async start(options: ConductorOptions): Promise<Conductor> {
    const { config } = options
    const log = options.log ?? pino({ level: config.LOG_LEVEL })
    const commandConnection = connectRedis(config)
    const stores = openStores(commandConnection, config)
    // Before any worker runs: a FLUSH_SHARDS that would strand pending writes stops the start here.
    try {
      await stores.buffer.adoptShardCount(entityNames)
    } catch (error) {
      commandConnection.disconnect()
      throw error
    }
    const queueConnection = connectRedis(config, { maxRetriesPerRequest: null })
    const prisma =
      options.prisma ??
      createPrismaClient(config.DATABASE_URL, {
        connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
        queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
        idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      })

    const store = new EntityStore()
    const reads = new ReadThrough(prisma, store, stores.cache)
    const flusher = new Flusher(
      prisma,
      store,
      stores.buffer,
      {
        batchMax: config.FLUSH_BATCH_MAX,
        timeoutMs: config.FLUSH_TIMEOUT_MS,
        deadLetterMax: config.DEAD_LETTER_MAX,
        retryFirstDelayMs: config.FLUSH_INTERVAL_MS,
        retryMaxDelayMs: config.FLUSH_RETRY_MAX_MS,
        faultPoint: config.FAULT_INJECT,
      },
      log,
      options.onFlushCommitted,
    )
    // A hung PostgreSQL must not hold the write slots: writes of unknown keys wait at most READ_THROUGH_TIMEOUT_MS, then retry later.
    const loadStored = (entity: EntityName, keys: string[]) =>
      withDeadline(reads.load(entity, keys), config.READ_THROUGH_TIMEOUT_MS, `reading the stored versions of ${keys.length} keys`)
    const intake = new WriteIntake(stores.buffer, loadStored, config.WRITE_VALUE_MAX_BYTES, config.VERSION_MAX_AHEAD_MS)
    const writes = new TransientRetry(
      new WriteProcessor(intake).process,
      { firstDelayMs: 200, maxDelayMs: config.WRITE_RETRY_MAX_DELAY_MS, giveUpAfterMs: config.WRITE_RETRY_HOURS * 3600_000 },
      (job, reason) => stores.buffer.deadLetter(deadLettersOf(job.data, reason), config.DEAD_LETTER_MAX),
      log,
    )
    const inventoryStore = new InventoryStore()
    const reconciler = new InventoryReconciler(prisma, inventoryStore, stores.inventory, stores.buffer, log, config.INVENTORY_TIMEOUT_MS)

    const prefix = queuePrefix(config)
    const common = {
      connection: queueConnection,
      prefix,
      removeOnComplete: keepCompleted(config),
      removeOnFail: { age: KEEP_FAILED_S, count: config.JOBS_KEEP_FAILED },
      lockDuration: config.JOB_LOCK_MS,
      stalledInterval: config.JOB_LOCK_MS,
    }
    const limits = { maxBytes: config.JOB_MAX_BYTES, keptMaxBytes: config.JOB_KEPT_DATA_MAX_BYTES }
    const worker = (name: string, processor: Processor, options: Partial<WorkerOptions>) =>
      new BoundedWorker(name, processor, { ...common, ...options }, limits)
    // The conductor's one Keystone session: Placement's token and Nova's.
    const session = keystoneSessionFrom(config)
    const placement = startPlacementSync(config, worker, {
      session,
      queueConnection,
      commandConnection,
      loadHost: async (hostname) => (await stores.inventory.get(hostname)) ?? (await inventoryStore.load(prisma, hostname)),
      registry: options.metrics?.registry ?? new Registry(),
      log,
    })
    // An operator's change to a host's inventory: its cached tree is stale, and Placement must hear of it.
    const hostChanged = async (hostname: string) => {
      await stores.inventory.forget(hostname)
      await placement?.queue.enqueue(hostname)
    }
    const commands = new CommandProcessor(
      new DeviceProfileService(prisma, stores.views),
      new ArqService(prisma, stores.views, log),
      new InventoryQueryService(prisma),
      new InventoryAdminService(prisma, hostChanged),
    )
    const workers: Worker[] = [
      // Taking a write again is harmless (its writes count as stale), so a job stalled by a Redis restart is never failed for it.
      worker(WRITE_QUEUE, writes.process, { concurrency: config.WRITE_CONCURRENCY, maxStalledCount: WRITE_MAX_STALLED }),
      worker(READ_QUEUE, new ReadProcessor(reads).process, { concurrency: config.READ_CONCURRENCY }),
      // Every shard of every entity can flush at once in one process; each shard's lease keeps it to one flush.
      worker(FLUSH_QUEUE, new FlushProcessor(stores.buffer, flusher, log).process, { concurrency: entityNames.length * config.FLUSH_SHARDS }),
      worker(INVENTORY_QUEUE, new InventoryProcessor(reconciler, config.VERSION_MAX_AHEAD_MS, placement?.queue).process, {
        concurrency: config.INVENTORY_CONCURRENCY,
      }),
      worker(COMMAND_QUEUE, new IdempotentCommands(commands.process, commandConnection, prefix, config.IDEMPOTENCY_TTL_S).process, {
        concurrency: config.COMMAND_CONCURRENCY,
      }),
      ...(placement ? [placement.worker] : []),
    ]
    if (session) {
      const nova = new NovaClient(session, config.NOVA_URL, config.KEYSTONE_TIMEOUT_MS)
      workers.push(worker(NOVA_EVENTS_QUEUE, new NovaEventProcessor(nova, log).process, { concurrency: 4 }))
    }
    for (const worker of workers) {
      worker.on('failed', (job, error) => log.warn({ queue: worker.name, job: job?.id, name: job?.name, reason: error.message }, 'job failed'))
      worker.on('error', (error) => log.error({ queue: worker.name, err: error }, 'worker error'))
      options.metrics?.watchWorker(worker)
    }

    const flushQueue = new Queue(FLUSH_QUEUE, { connection: queueConnection, prefix })
    const scheduler = new FlushScheduler(flushQueue, config.FLUSH_INTERVAL_MS, config.FLUSH_SHARDS)
    await scheduler.schedule()
    // A scheduler removed from Redis (by hand, by Bull Board, or lost with Redis's last writes) would leave
    // writes accepted and never flushed: every conductor puts them back every 20 intervals.
    const rescheduling = setInterval(
      () =>
        void scheduler
          .renew()
          .then((renewed) => renewed.length > 0 && log.warn({ schedulers: renewed }, 'flush schedulers were missing; put back'))
          .catch((error: unknown) => log.warn({ err: error }, 'could not renew the flush schedulers; retrying')),
      Math.max(20 * config.FLUSH_INTERVAL_MS, 1000),
    )
    log.info(
      { prefix: config.CONDUCTOR_PREFIX, flushIntervalMs: config.FLUSH_INTERVAL_MS, flushBatchMax: config.FLUSH_BATCH_MAX, flushShards: config.FLUSH_SHARDS },
      'conductor started',
    )
    const owned = options.prisma ? undefined : prisma
    return new Conductor(config, stores.buffer, flusher, reads, workers, flushQueue, rescheduling, placement, [queueConnection, commandConnection], owned, log)
  }

  /**
   * Stops taking jobs, waits for those running, flushes everything still pending (waiting while
   * another conductor's flush holds a lease), then closes the connections.
   */
  async close(): Promise<void> {
    clearInterval(this.rescheduling)
    await Promise.all(this.workers.map((worker) => worker.close()))
    this.log.info('workers stopped: no job is running')
    await this.flusher.flushEverything(entityNames, Date.now() + 2 * this.config.FLUSH_TIMEOUT_MS + 5000)
    this.log.info('final flush done')
    await this.flushQueue.close()
    await this.placement?.close()
    await Promise.all(this.connections.map((connection) => connection.quit()))
    // Ending the pool waits for every connection it lent: one a hung PostgreSQL still holds must not hold the exit.
    if (this.ownedPrisma) {
      await withDeadline(this.ownedPrisma.$disconnect(), POOL_CLOSE_MS, 'closing the PostgreSQL pool').catch((error: unknown) =>
        this.log.warn({ err: error }, 'PostgreSQL connections left open; they end with the process'),
      )
    }
    this.log.info('conductor stopped')
  }
}

/** The Placement sync of a conductor: the queue reconciliation feeds, and its worker. */
interface PlacementSyncParts {
  queue: PlacementSyncQueue
  worker: Worker
  close(): Promise<void>
}

/** Without PLACEMENT_URL, nothing: the conductor works as it did before Placement. */
function startPlacementSync(
  config: Config,
  worker: (name: string, processor: Processor, options: Partial<WorkerOptions>) => Worker,
  deps: {
    session: TokenSource | undefined
    queueConnection: RedisConnection
    commandConnection: RedisConnection
    loadHost: (hostname: string) => Promise<StoredHost>
    registry: Registry
    log: Logger
  },
): PlacementSyncParts | undefined {
  if (!config.PLACEMENT_URL) return undefined
  const record = new ProviderRecord(deps.commandConnection, config.CONDUCTOR_PREFIX)
  const metrics = new PlacementMetrics(deps.registry, () => record.providerCount())
  const client = placementClient(config, deps.session, (method, outcome) => metrics.request(method, outcome))!
  const nodeNames = new Map(config.PLACEMENT_NODE_NAMES.map(({ host, nodename }) => [host, nodename]))
  const log = deps.log.child({ component: 'placement' })
  const sync = new PlacementSync(client, record, deps.loadHost, metrics, log, { nodeNames })
  const queue = new Queue(PLACEMENT_SYNC_QUEUE, { connection: deps.queueConnection, prefix: queuePrefix(config) })
  const syncWorker = worker(PLACEMENT_SYNC_QUEUE, new PlacementSyncProcessor(sync, metrics, log).process, {
    concurrency: config.PLACEMENT_SYNC_CONCURRENCY,
    settings: { backoffStrategy: (attemptsMade: number) => placementBackoffMs(attemptsMade, config.PLACEMENT_RETRY_MAX_MS) },
  })
  log.info({ url: config.PLACEMENT_URL, auth: config.KEYSTONE_URL ? 'keystone' : 'noauth2' }, 'placement sync enabled')
  return { queue: new PlacementSyncQueue(queue, config.PLACEMENT_SYNC_ATTEMPTS), worker: syncWorker, close: () => queue.close() }
}

export interface ApiOptions {
  config: Config
  /** The API's own Redis connection or cluster (maxRetriesPerRequest: null, a command timeout): queues, caches and metrics. */
  connection: RedisConnection
  /** Where read and command results are awaited, without a command timeout (blocking reads); `connection` by default. */
  eventsConnection?: RedisConnection
  log: FastifyBaseLogger
  /** Shared with the workers when both run in one process; the API makes its own otherwise. */
  metrics?: ConductorMetrics
  /** What src/server.ts found of Redis's persistence (DURABILITY), shown by /readyz and /metrics. */
  durability?: DurabilityReport
}

/** The HTTP API and what it reaches the conductor through: its queues and its Redis caches, never PostgreSQL. */
export async function buildApi({
  config,
  connection,
  eventsConnection,
  log,
  metrics = new ConductorMetrics(),
  durability,
}: ApiOptions): Promise<FastifyInstance> {
  const prefix = queuePrefix(config)
  const stores = openStores(connection, config)
  const limits = writeLimitsOf(config)
  const client = new ConductorClient({ connection, eventsConnection, prefix, readTimeoutMs: config.READ_TIMEOUT_MS, writeLimits: limits })
  const session = keystoneSessionFrom(config)
  const placement = placementClient(config, session)
  const queueNames = [WRITE_QUEUE, READ_QUEUE, INVENTORY_QUEUE, COMMAND_QUEUE, FLUSH_QUEUE, ...(placement ? [PLACEMENT_SYNC_QUEUE] : [])]
  const queues = queueNames.map((name) => new Queue(name, { connection, prefix }))
  const keystone = session && new KeystoneTokenValidator(session, connection, config.CONDUCTOR_PREFIX, config.KEYSTONE_TOKEN_CACHE_S)
  const bindEvents =
    session &&
    new BindEventQueue(connection, prefix, { attempts: config.NOVA_EVENT_ATTEMPTS, backoffMs: config.NOVA_EVENT_BACKOFF_MS, novaUrl: config.NOVA_URL, session })
  if (bindEvents) queues.push(bindEvents.bullQueue)
  metrics.watchRedis(queues, stores.buffer)
  if (durability) metrics.durability(durability)
  const access: ConductorAccess = {
    client,
    cache: stores.cache,
    buffer: stores.buffer,
    views: new ViewReader(stores.views, metrics),
    hosts: new HostBinding(stores.inventory),
    queues,
    redis: connection,
    metrics,
    durability,
    // A flush job per shard every FLUSH_INTERVAL_MS: five missed intervals (beyond one flush's timeout) is no hiccup.
    staleFlushes: () => stores.buffer.staleFlushes(entityNames, 5 * config.FLUSH_INTERVAL_MS + config.FLUSH_TIMEOUT_MS),
    placement,
    retryAfterSeconds: limits.retryAfterSeconds,
    bindEvents,
    close: async () => {
      await client.close()
      await Promise.all(queues.map((queue) => queue.close()))
    },
  }
  return buildApp({ config, log, access, keystone })
}
