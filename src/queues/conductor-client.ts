import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq'
import type { z } from 'zod'
import {
  describeIssues,
  readResultSchema,
  readSchema,
  writeBatchSchema,
  writeSchema,
  type Read,
  type ReadResult,
  type Write,
} from './contract.ts'
import { READ_JOB, READ_QUEUE, WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from './names.ts'

export interface ConductorClientOptions {
  connection: ConnectionOptions
  /** The conductor's CONDUCTOR_PREFIX. */
  prefix: string
  /** How long `call` waits for a read by default. */
  readTimeoutMs: number
}

// A write survives a conductor or Redis hiccup: re-accepting it is harmless (it counts as stale).
const WRITE_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 200 } }
// Read results are delivered through the events stream; the job itself need not stay.
const READ_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: { age: 3600 } }

export class ContractError extends Error {
  override name = 'ContractError'
}

/** A typed producer of the conductor's job contract: `cast` writes, `call` reads. */
export class ConductorClient {
  private readonly writes: Queue
  private readonly reads: Queue
  private readonly readEvents: QueueEvents
  private readonly readEventsReady: Promise<unknown>

  constructor(private readonly options: ConductorClientOptions) {
    const queueOptions = { connection: options.connection, prefix: options.prefix }
    this.writes = new Queue(WRITE_QUEUE, queueOptions)
    this.reads = new Queue(READ_QUEUE, queueOptions)
    this.readEvents = new QueueEvents(READ_QUEUE, queueOptions)
    this.readEventsReady = this.readEvents.waitUntilReady()
  }

  /** Enqueues one write without waiting for it; resolves to the job id. */
  async cast(write: Write): Promise<string> {
    const job = await this.writes.add(WRITE_JOB, checked(writeSchema, write, 'write'), WRITE_JOB_OPTIONS)
    return job.id!
  }

  /** Enqueues up to 10,000 writes as one `write-batch` job; resolves to the job id. */
  async castBatch(writes: Write[]): Promise<string> {
    const job = await this.writes.add(WRITE_BATCH_JOB, checked(writeBatchSchema, { writes }, 'write-batch'), WRITE_JOB_OPTIONS)
    return job.id!
  }

  /** Reads through the conductor and waits for the result, at most `timeoutMs`. */
  async call(read: Read, timeoutMs = this.options.readTimeoutMs): Promise<ReadResult> {
    // The events stream is read from the moment it connects: it must be listening before the job exists.
    await this.readEventsReady
    const job = await this.reads.add(READ_JOB, checked(readSchema, read, 'read'), READ_JOB_OPTIONS)
    return readResultSchema.parse(await job.waitUntilFinished(this.readEvents, timeoutMs)) as ReadResult
  }

  async close(): Promise<void> {
    await Promise.all([this.writes.close(), this.reads.close(), this.readEvents.close()])
  }
}

function checked<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data)
  if (!parsed.success) throw new ContractError(`invalid ${what}: ${describeIssues(parsed.error)}`)
  return parsed.data
}
