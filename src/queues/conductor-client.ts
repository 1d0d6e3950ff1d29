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
import { CommandError, commandSchemas, type CommandData, type CommandName, type CommandResults } from './commands.ts'
import { inventoryReportSchema, type InventoryReport } from './inventory.ts'
import {
  COMMAND_QUEUE,
  INVENTORY_QUEUE,
  INVENTORY_REPORT_JOB,
  READ_JOB,
  READ_QUEUE,
  WRITE_BATCH_JOB,
  WRITE_JOB,
  WRITE_QUEUE,
} from './names.ts'

export interface ConductorClientOptions {
  connection: ConnectionOptions
  /** The BullMQ prefix: CONDUCTOR_PREFIX, or `{CONDUCTOR_PREFIX}` on a Redis Cluster (see queuePrefix). */
  prefix: string
  /** How long `call` waits for a read by default. */
  readTimeoutMs: number
}

// A write survives a conductor or Redis hiccup: re-accepting it is harmless (it counts as stale).
const WRITE_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 200 } }
// Read and command results are delivered through the events stream, but the job must outlive the
// wait's first look at it: waitUntilFinished checks the job itself once it listens, and fails with
// "Missing key for job" when a busy caller looks after the job completed and was removed. At most
// 10,000 are kept, so a read-heavy load does not fill Redis.
const CALL_JOB_OPTIONS = { removeOnComplete: { age: 60, count: 10_000 }, removeOnFail: { age: 3600 } }
/**
 * A host's snapshots replace each other while they wait (debounce: a report waits this long), and one
 * arriving while another is reconciled waits for it (keepLastIfActive): only the newest is reconciled,
 * never two of one host at once.
 */
export const INVENTORY_REPORT_DELAY_MS = 250

export class ContractError extends Error {
  override name = 'ContractError'
}

/** A typed producer of the conductor's job contract: `cast` writes, `call` reads. */
export class ConductorClient {
  private readonly writes: Queue
  private readonly reads: Queue
  private readonly readEvents: QueueEvents
  private readonly inventory: Queue
  private readonly commands: Queue
  private readonly commandEvents: QueueEvents

  constructor(private readonly options: ConductorClientOptions) {
    const queueOptions = { connection: options.connection, prefix: options.prefix }
    this.writes = new Queue(WRITE_QUEUE, queueOptions)
    this.reads = new Queue(READ_QUEUE, queueOptions)
    this.readEvents = new QueueEvents(READ_QUEUE, queueOptions)
    this.inventory = new Queue(INVENTORY_QUEUE, queueOptions)
    this.commands = new Queue(COMMAND_QUEUE, queueOptions)
    this.commandEvents = new QueueEvents(COMMAND_QUEUE, queueOptions)
    // Each call in flight listens for its queue's 'closing' (BullMQ's waitUntilFinished): many concurrent calls are normal.
    for (const queue of [this.reads, this.commands]) queue.setMaxListeners(0)
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
    const result = await this.addAndWait(this.reads, this.readEvents, READ_JOB, checked(readSchema, read, 'read'), timeoutMs)
    return readResultSchema.parse(result) as ReadResult
  }

  /** Enqueues a full inventory snapshot of one host; resolves to the id of the job that will reconcile it. */
  async reportInventory(report: InventoryReport): Promise<string> {
    const job = await this.inventory.add(INVENTORY_REPORT_JOB, checked(inventoryReportSchema, report, 'inventory report'), {
      delay: INVENTORY_REPORT_DELAY_MS,
      deduplication: { id: report.hostname, replace: true, keepLastIfActive: true },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    })
    return job.id!
  }

  /**
   * Runs a device-profile or ARQ command and waits until PostgreSQL has committed it. A refused
   * command rejects with a CommandError carrying its code (not_found, conflict, ...).
   */
  async command<N extends CommandName>(name: N, data: CommandData<N>, timeoutMs = this.options.readTimeoutMs): Promise<CommandResults[N]> {
    const checkedData = checked(commandSchemas[name] as z.ZodType, data, name)
    try {
      return (await this.addAndWait(this.commands, this.commandEvents, name, checkedData, timeoutMs)) as CommandResults[N]
    } catch (error) {
      throw (error instanceof Error && CommandError.fromReason(error.message)) || error
    }
  }

  private async addAndWait(queue: Queue, events: QueueEvents, name: string, data: unknown, timeoutMs: number): Promise<unknown> {
    // The events stream is read from the moment it connects: it must be listening before the job exists.
    await events.waitUntilReady()
    const job = await queue.add(name, data, CALL_JOB_OPTIONS)
    return job.waitUntilFinished(events, timeoutMs)
  }

  async close(): Promise<void> {
    await Promise.all([this.writes, this.reads, this.readEvents, this.inventory, this.commands, this.commandEvents].map((each) => each.close()))
  }
}

function checked<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data)
  if (!parsed.success) throw new ContractError(`invalid ${what}: ${describeIssues(parsed.error)}`)
  return parsed.data
}
