import type { Job, Queue, Worker } from 'bullmq'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { BufferStats, WriteBuffer } from '../buffer/write-buffer.ts'
import { entityNames } from '../queues/contract/entities.ts'
import { FLUSH_QUEUE } from '../queues/contract/names.ts'
import type { FlushOutcome } from '../buffer/flusher.ts'
import type { DurabilityReport } from '../redis/durability.ts'

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const

/**
 * The conductor's Prometheus metrics, served at GET /metrics. One registry per instance, so that a
 * process (or a test) may run several conductors and APIs side by side.
 *
 * Job and flush metrics count what this process did; queue depths and the write-buffer counters are
 * read from Redis when scraped, so they are the same on every conductor sharing a prefix.
 */
export class ConductorMetrics {
  readonly registry = new Registry()

  private readonly jobsProcessed = new Counter({
    name: 'cyborg_jobs_processed_total',
    help: 'Jobs this process completed, by queue and job name',
    labelNames: ['queue', 'name'],
    registers: [this.registry],
  })
  private readonly jobsFailed = new Counter({
    name: 'cyborg_jobs_failed_total',
    help: 'Jobs this process failed (each failed attempt), by queue and job name',
    labelNames: ['queue', 'name'],
    registers: [this.registry],
  })
  private readonly flushDuration = new Histogram({
    name: 'cyborg_flush_duration_seconds',
    help: 'Duration of flush jobs that wrote at least one transaction, by entity',
    labelNames: ['entity'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  })
  private readonly flushBatchSize = new Histogram({
    name: 'cyborg_flush_batch_size',
    help: 'Rows one flush job took from the buffer (written plus dead-lettered), by entity',
    labelNames: ['entity'],
    buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10_000, 50_000],
    registers: [this.registry],
  })
  private readonly cacheRequests = new Counter({
    name: 'cyborg_cache_requests_total',
    help: 'HTTP reads answered from the Redis cache (hit) or through a queue (miss), by kind',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  })
  readonly httpDuration = new Histogram({
    name: 'cyborg_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cyborg_' })
  }

  /** Counts a worker's completed and failed jobs; flush jobs also feed the flush histograms. */
  watchWorker(worker: Worker): void {
    worker.on('completed', (job: Job, result: unknown) => {
      this.jobsProcessed.inc({ queue: worker.name, name: job.name })
      if (worker.name === FLUSH_QUEUE && result) this.observeFlush(job, result as FlushOutcome | { backoffMs: number })
    })
    worker.on('failed', (job) => this.jobsFailed.inc({ queue: worker.name, name: job?.name ?? 'unknown' }))
  }

  private observeFlush(job: Job, outcome: FlushOutcome | { backoffMs: number }): void {
    // A flush that waited out a back-off wrote nothing: it is no sample of a flush's duration or size.
    if (!('transactions' in outcome) || outcome.transactions === 0) return
    const entity = String((job.data as { entity?: unknown }).entity)
    if (job.processedOn !== undefined && job.finishedOn !== undefined) this.flushDuration.observe({ entity }, (job.finishedOn - job.processedOn) / 1000)
    this.flushBatchSize.observe({ entity }, outcome.rows + outcome.deadLettered)
  }

  cacheRead(kind: string, hit: boolean): void {
    this.cacheRequests.inc({ kind, result: hit ? 'hit' : 'miss' })
  }

  /** The durability mode the conductor runs with and Redis's appendfsync, as a gauge of 1 (DURABILITY). */
  durability(report: DurabilityReport): void {
    new Gauge({
      name: 'cyborg_redis_durability',
      help: 'The DURABILITY mode and the appendfsync Redis reported at start-up; always 1',
      labelNames: ['mode', 'appendfsync'],
      registers: [this.registry],
    }).set({ mode: report.mode, appendfsync: report.appendfsync }, 1)
  }

  /** Gauges read from Redis at each scrape: queue depths and the write buffer's counters. */
  watchRedis(queues: Queue[], buffer: WriteBuffer): void {
    new Gauge({
      name: 'cyborg_queue_jobs',
      help: 'Jobs in each queue, by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...QUEUE_STATES)
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0)
        }
      },
    })
    const stats = () => Promise.all(entityNames.map(async (entity) => ({ entity, stats: await buffer.stats(entity) })))
    const bufferGauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      record: (gauge: Gauge<L>, entity: string, stats: BufferStats) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          for (const each of await stats()) record(this, each.entity, each.stats)
        },
      })
    bufferGauge(
      'cyborg_buffer_writes',
      'Writes the buffer has seen since the prefix was created, by entity and outcome: accepted, stale (dropped: not newer), back_pressured (refused: PENDING_MAX_KEYS), flushed (rows written), dead_lettered',
      ['entity', 'outcome'],
      (gauge, entity, s) => {
        gauge.set({ entity, outcome: 'accepted' }, s.accepted)
        gauge.set({ entity, outcome: 'stale' }, s.stale)
        gauge.set({ entity, outcome: 'back_pressured' }, s.backPressured)
        gauge.set({ entity, outcome: 'flushed' }, s.flushed)
        gauge.set({ entity, outcome: 'dead_lettered' }, s.deadLettered)
      },
    )
    bufferGauge('cyborg_buffer_keys', 'Keys waiting in the write buffer, by entity and state (pending, flushing)', ['entity', 'state'], (gauge, entity, s) => {
      gauge.set({ entity, state: 'pending' }, s.pending)
      gauge.set({ entity, state: 'flushing' }, s.flushing)
    })
    bufferGauge(
      'cyborg_flush_failures',
      'Flush transactions that failed (PostgreSQL down, a timeout), by entity: in all (total) and in a row now (streak)',
      ['entity', 'count'],
      (gauge, entity, s) => {
        gauge.set({ entity, count: 'total' }, s.flushFailures)
        gauge.set({ entity, count: 'streak' }, s.flushFailureStreak)
      },
    )
    bufferGauge(
      'cyborg_flush_backoff_seconds',
      'How long scheduled flushes of the entity still wait after failures before the next attempt',
      ['entity'],
      (gauge, entity, s) => {
        gauge.set({ entity }, s.flushBackoffMs / 1000)
      },
    )
    bufferGauge(
      'cyborg_write_coalescing_ratio',
      'Share of writes that never became a row write of their own (dropped as stale or coalesced in the buffer): 1 - flushed / (accepted + stale)',
      ['entity'],
      (gauge, entity, s) => {
        const seen = s.accepted + s.stale
        gauge.set({ entity }, seen === 0 ? 0 : 1 - s.flushed / seen)
      },
    )
  }
}
