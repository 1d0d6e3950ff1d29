import { setTimeout as delay } from 'node:timers/promises'
import { Queue, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import { WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from '../../../src/queues/contract/names.ts'
import { seededRandom } from '../../support/harness.ts'
import { waitFor } from '../../support/wait-for.ts'
import { Ledger } from './ledger.ts'

export interface AgentOptions {
  redisUrl: string
  prefix: string
  /** Deployables reporting, one key each. */
  keys: number
  writesPerSecond: number
  /** Share of the writes sent five at a time as `write-batch` jobs; the rest are single `write` jobs. */
  batchShare: number
  seed: number
}

// As the conductor's own client retries, and every job kept, so the ledger can read what each writer was told.
const JOB_OPTIONS: JobsOptions = { attempts: 5, backoff: { type: 'exponential', delay: 200 }, removeOnComplete: false, removeOnFail: false }
const TICK_MS = 25
const BATCH_SIZE = 5

/**
 * Simulated agents reporting versioned usage through the job contract, straight to BullMQ as an agent
 * in any language would. Versions rise across all writes, so each one is unique, and the writes of a
 * key race each other through concurrent workers; each value carries its version.
 */
export class Agents {
  readonly queue: Queue
  private readonly connection: Redis
  private readonly random: () => number
  private version = 0
  private writing: Promise<void> | undefined
  private stopping = false
  /** Writes and jobs enqueued so far, and the keys written. */
  written = 0
  jobsAdded = 0
  readonly keysWritten = new Set<string>()

  constructor(private readonly options: AgentOptions) {
    this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null })
    this.queue = new Queue(WRITE_QUEUE, { connection: this.connection, prefix: options.prefix })
    // While Redis restarts the connection fails and reconnects by itself; commands wait meanwhile.
    this.connection.on('error', () => {})
    this.random = seededRandom(options.seed)
  }

  key(index: number): string {
    return `${this.options.prefix}-d${index}`
  }

  /** One write of every key, in one batch: afterwards the conductor knows each key. */
  async writeEveryKey(): Promise<string> {
    const writes = Array.from({ length: this.options.keys }, (_, index) => this.nextWrite(index))
    const job = await this.queue.add(WRITE_BATCH_JOB, { writes }, JOB_OPTIONS)
    this.jobsAdded += 1
    return job.id!
  }

  start(): void {
    this.stopping = false
    this.writing = this.write()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.writing
  }

  private async write(): Promise<void> {
    let due = 0
    let next = Date.now()
    while (!this.stopping) {
      due += (this.options.writesPerSecond * TICK_MS) / 1000
      const jobs = []
      for (; due >= 1; due -= 1) {
        if (this.random() < this.options.batchShare) {
          const writes = Array.from({ length: BATCH_SIZE }, () => this.nextWrite(this.randomKey()))
          jobs.push({ name: WRITE_BATCH_JOB, data: { writes }, opts: JOB_OPTIONS })
          due -= BATCH_SIZE - 1
        } else {
          jobs.push({ name: WRITE_JOB, data: this.nextWrite(this.randomKey()), opts: JOB_OPTIONS })
        }
      }
      await this.queue.addBulk(jobs)
      this.jobsAdded += jobs.length
      next += TICK_MS
      // Pacing of the load, not synchronisation: the agents report at a steady rate.
      await delay(Math.max(0, next - Date.now()))
    }
  }

  private randomKey(): number {
    return Math.floor(this.random() * this.options.keys)
  }

  private nextWrite(index: number) {
    const version = ++this.version
    const key = this.key(index)
    this.written += 1
    this.keysWritten.add(key)
    return { entity: 'usage', key, version, value: { version, accelerators_in_use: version % 8 } }
  }

  /** Waits until no job is left to process (every retry done). */
  async settle(timeoutMs: number): Promise<void> {
    await waitFor(
      async () => {
        const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')
        return Object.values(counts).every((count) => count === 0)
      },
      'every write job to finish',
      timeoutMs,
    )
  }

  /** Jobs whose processing has finished so far. */
  async finishedJobs(): Promise<{ completed: number; failed: number }> {
    const counts = await this.queue.getJobCounts('completed', 'failed')
    return { completed: counts.completed!, failed: counts.failed! }
  }

  ledger(): Promise<Ledger> {
    return Ledger.read(this.queue)
  }

  async close(): Promise<void> {
    await this.stop()
    await this.queue.close()
    await this.connection.quit()
  }
}
