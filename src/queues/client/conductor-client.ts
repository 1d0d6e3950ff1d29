import { readFileSync } from 'node:fs'
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq'
import type { z } from 'zod'
import type { Config } from '../../config.ts'
import {
  describeIssues,
  readResultSchema,
  readSchema,
  writeBatchSchema,
  oversizedValue,
  versionTooFarAhead,
  writeSchema,
  type Read,
  type ReadResult,
  type Write,
} from '../contract/writes.ts'
import {
  callerFreeCommands,
  commandCallerSchema,
  commandSchemas,
  type CommandCaller,
  type CommandData,
  type CommandName,
  type CommandResults,
} from '../contract/commands.ts'
import { CommandError } from '../contract/command-error.ts'
import { ConductorTimeoutError } from './conductor-timeout-error.ts'
import { withDeadline } from '../../deadline.ts'
import { idempotentJobId, idempotentResultKey } from '../contract/idempotency.ts'
import { ContractError } from './contract-error.ts'
import { BackPressureError } from './back-pressure-error.ts'
import { INVENTORY_REPORT_DELAY_MS, inventoryReportSchema, type InventoryReport } from '../contract/inventory.ts'
import { COMMAND_QUEUE, INVENTORY_QUEUE, INVENTORY_REPORT_JOB, READ_JOB, READ_QUEUE, WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from '../contract/names.ts'

export interface ConductorClientOptions {
  connection: ConnectionOptions
  /**
   * Where the results of reads and commands are awaited (a blocking XREAD); `connection` by default.
   * A connection with a command timeout needs one of its own without: the blocking read outlasts it.
   */
  eventsConnection?: ConnectionOptions
  /** The BullMQ prefix: CONDUCTOR_PREFIX, or `{CONDUCTOR_PREFIX}` on a Redis Cluster (see queuePrefix). */
  prefix: string
  /** How long `call` waits for a read by default. */
  readTimeoutMs: number
  /** The conductor's intake limits, checked before a write is enqueued (the API and agents set them from the configuration). */
  writeLimits?: WriteLimits
  /** Whom `command` acts for when its data names no `caller` (a tool acting as admin); the API names one per request. */
  caller?: CommandCaller
}

export interface WriteLimits {
  /** WRITE_VALUE_MAX_BYTES: a larger value is refused with a ContractError. */
  valueMaxBytes: number
  /** VERSION_MAX_AHEAD_MS: a write or inventory report whose version lies further beyond the clock is refused with a ContractError. */
  versionMaxAheadMs: number
  /** WRITE_QUEUE_MAX_DEPTH: while this many write jobs wait, writes are refused with a BackPressureError. */
  queueMaxDepth: number
  /** What a BackPressureError tells the producer to wait. */
  retryAfterSeconds: number
  /** JOB_MAX_BYTES: a job whose data (its JSON) is larger is refused with a ContractError; the worker would fail it. */
  jobMaxBytes: number
}

/** A create sent with an Idempotency-Key or X-OpenStack-Request-ID: the key, within the caller's scope (its project). */
export interface Idempotency {
  scope: string
  key: string
}

/** The limits of the conductor's configuration; producers are told to come back after one flush interval (at least a second). */
export function writeLimitsOf(
  config: Pick<Config, 'WRITE_VALUE_MAX_BYTES' | 'VERSION_MAX_AHEAD_MS' | 'WRITE_QUEUE_MAX_DEPTH' | 'FLUSH_INTERVAL_MS' | 'JOB_MAX_BYTES'>,
): WriteLimits {
  return {
    valueMaxBytes: config.WRITE_VALUE_MAX_BYTES,
    versionMaxAheadMs: config.VERSION_MAX_AHEAD_MS,
    queueMaxDepth: config.WRITE_QUEUE_MAX_DEPTH,
    retryAfterSeconds: Math.ceil(Math.max(config.FLUSH_INTERVAL_MS, 1000) / 1000),
    jobMaxBytes: config.JOB_MAX_BYTES,
  }
}

// What one write adds to a job's JSON besides its value: its key (at most 255 characters, 6 bytes each
// once escaped), entity, version and punctuation. A batch whose values leave this much room per write fits
// without being serialized to measure it.
const WRITE_ENVELOPE_MAX_BYTES = 255 * 6 + 100

// The write queue's depth is looked up at most this often: one Redis call per window, not per write.
const DEPTH_CACHE_MS = 100

// A write survives a conductor or Redis hiccup: re-accepting it is harmless (it counts as stale).
const WRITE_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 200 } }
// Read and command results are delivered through the events stream, but the job must outlive the
// wait's first look at it: waitUntilFinished checks the job itself once it listens, and fails with
// "Missing key for job" when a busy caller looks after the job completed and was removed. At most
// 10,000 are kept, so a read-heavy load does not fill Redis (docs/operations.md#memory counts them).
export const CALL_JOBS_KEPT = 10_000
const CALL_JOB_OPTIONS = { removeOnComplete: { age: 60, count: CALL_JOBS_KEPT }, removeOnFail: { age: 3600, count: CALL_JOBS_KEPT } }
/** How much later than the call's deadline BullMQ's own wait timer is set (see addAndWait). */
const WAIT_TIMER_MARGIN_MS = 1000
// Read from the source tree from src/ and dist/ alike (three levels down from the root either way): tsc copies no .lua file.
const NEWEST_EVENT_ID_LUA = readFileSync(new URL('../../../src/queues/client/lua/newestEventId-1.lua', import.meta.url), 'utf8')
const NEWEST_EVENT_ID = 'conductor_newestEventId'

/** A typed producer of the conductor's job contract: `cast` writes, `call` reads. */
export class ConductorClient {
  private readonly writes: Queue
  private readonly reads: Queue
  private readonly inventory: Queue
  private readonly commands: Queue
  /** The events streams of reads and commands, opened by the first call that waits on one: an agent (a Redis ACL user that may only add reports) opens none. */
  private readonly events = new Map<string, Promise<QueueEvents>>()

  constructor(private readonly options: ConductorClientOptions) {
    const queueOptions = { connection: options.connection, prefix: options.prefix }
    this.writes = new Queue(WRITE_QUEUE, queueOptions)
    this.reads = new Queue(READ_QUEUE, queueOptions)
    this.inventory = new Queue(INVENTORY_QUEUE, queueOptions)
    this.commands = new Queue(COMMAND_QUEUE, queueOptions)
    // Each call in flight listens for its queue's 'closing' (BullMQ's waitUntilFinished): many concurrent calls are normal.
    for (const queue of [this.reads, this.commands]) queue.setMaxListeners(0)
  }

  /**
   * The queue's events stream, read from its newest entry at the moment of the first call: a reader
   * that started from '$' once connected missed a result that came in between (the first read on a
   * Redis Cluster timed out). A failed opening is tried again by the next call.
   */
  private eventsOf(queue: Queue): Promise<QueueEvents> {
    let events = this.events.get(queue.name)
    if (!events) {
      events = (async () => {
        const redis = await queue.getBackend().client
        redis.defineCommand(NEWEST_EVENT_ID, { numberOfKeys: 1, lua: NEWEST_EVENT_ID_LUA })
        const opened = new QueueEvents(queue.name, {
          connection: this.options.eventsConnection ?? this.options.connection,
          prefix: this.options.prefix,
          lastEventId: String(await redis.runCommand(NEWEST_EVENT_ID, [queue.keys.events!])),
        })
        await opened.waitUntilReady()
        return opened
      })()
      events.catch(() => this.events.delete(queue.name))
      this.events.set(queue.name, events)
    }
    return events
  }

  /** Enqueues one write without waiting for it; resolves to the job id. */
  async cast(write: Write): Promise<string> {
    const data = checked(writeSchema, write, 'write')
    await this.checkWrites([data], [], data)
    const job = await this.writes.add(WRITE_JOB, data, WRITE_JOB_OPTIONS)
    return job.id!
  }

  /**
   * Enqueues up to 10,000 writes as one `write-batch` job; resolves to the job id. `validated`: the
   * caller has already checked them against `writeBatchSchema` (the HTTP intake's body schema), so
   * they are not checked twice; the worker checks every job again, whoever produced it.
   */
  async castBatch(writes: Write[], { validated = false } = {}): Promise<string> {
    const data = validated ? { writes } : checked(writeBatchSchema, { writes }, 'write-batch')
    await this.checkWrites(data.writes, ['writes'], data)
    const job = await this.writes.add(WRITE_BATCH_JOB, data, WRITE_JOB_OPTIONS)
    return job.id!
  }

  /**
   * Everything the conductor would refuse, checked before the write is acknowledged: the size of
   * each value and of the job's data, each version's lead over the clock, and room in the write queue
   * (back-pressure at intake, so the backlog stays bounded).
   */
  private async checkWrites(writes: Write[], path: (string | number)[], data: unknown): Promise<void> {
    const limits = this.options.writeLimits
    if (!limits) return
    const what = path.length ? 'write-batch' : 'write'
    let valueBytes = 0
    const problems = writes.flatMap((write, index) => {
      const at = path.length ? [...path, index] : []
      const valueJson = JSON.stringify(write.value)
      valueBytes += Buffer.byteLength(valueJson)
      return [oversizedValue(valueJson, limits.valueMaxBytes, at), versionTooFarAhead(write.version, limits.versionMaxAheadMs, at)].filter(
        (problem) => problem !== null,
      )
    })
    if (problems.length > 0) throw new ContractError(`invalid ${what}: ${problems.slice(0, 10).join('; ')}`)
    if (valueBytes + writes.length * WRITE_ENVELOPE_MAX_BYTES > limits.jobMaxBytes) checkJobSize(data, limits.jobMaxBytes, what)
    const depth = await this.writeQueueDepth()
    if (depth >= limits.queueMaxDepth) {
      throw new BackPressureError(
        `back-pressure: ${depth} write jobs wait in ${WRITE_QUEUE}, WRITE_QUEUE_MAX_DEPTH is ${limits.queueMaxDepth}`,
        limits.retryAfterSeconds,
      )
    }
  }

  private depth = { value: 0, at: 0 }

  /** Write jobs waiting to be taken or retried. */
  async writeQueueDepth(): Promise<number> {
    if (Date.now() - this.depth.at < DEPTH_CACHE_MS) return this.depth.value
    const counts = await this.writes.getJobCounts('waiting', 'delayed', 'prioritized')
    this.depth = { value: Object.values(counts).reduce((sum, count) => sum + count, 0), at: Date.now() }
    return this.depth.value
  }

  /** Reads through the conductor and waits for the result, at most `timeoutMs`. */
  async call(read: Read, timeoutMs = this.options.readTimeoutMs): Promise<ReadResult> {
    const result = await this.addAndWait(this.reads, READ_JOB, checked(readSchema, read, 'read'), timeoutMs)
    return readResultSchema.parse(result) as ReadResult
  }

  /** Enqueues a full inventory snapshot of one host; resolves to the id of the job that will reconcile it. */
  async reportInventory(report: InventoryReport): Promise<string> {
    const data = checked(inventoryReportSchema, report, 'inventory report')
    if (this.options.writeLimits) checkJobSize(data, this.options.writeLimits.jobMaxBytes, 'inventory report')
    const ahead = this.options.writeLimits && versionTooFarAhead(data.version, this.options.writeLimits.versionMaxAheadMs)
    if (ahead) throw new ContractError(`invalid inventory report: ${ahead}`)
    // Kept as the conductor's configuration says (JOBS_KEEP_COMPLETED, JOBS_KEEP_FAILED): no retention of its own.
    const job = await this.inventory.add(INVENTORY_REPORT_JOB, data, {
      delay: INVENTORY_REPORT_DELAY_MS,
      deduplication: { id: report.hostname, replace: true, keepLastIfActive: true },
    })
    return job.id!
  }

  /**
   * Runs a device-profile or ARQ command and waits until PostgreSQL has committed it. A refused
   * command rejects with a CommandError carrying its code (not_found, conflict, ...).
   */
  async command<N extends CommandName>(
    name: N,
    data: CommandData<N>,
    timeoutMs = this.options.readTimeoutMs,
    idempotency?: Idempotency,
  ): Promise<CommandResults[N]> {
    const caller = data.caller ?? this.options.caller
    if (caller === undefined && !callerFreeCommands.includes(name)) {
      throw new ContractError(`invalid ${name}: caller: every command but conductor.ping says whom it acts for (role, project_id)`)
    }
    const checkedData = {
      ...(checked(commandSchemas[name] as z.ZodType, data, name) as object),
      ...(caller && { caller: checked(commandCallerSchema, caller, `${name} caller`) }),
    }
    const result = idempotency
      ? await this.idempotentCommand(name, checkedData, timeoutMs, idempotency)
      : await this.addAndWait(this.commands, name, checkedData, timeoutMs)
    const refusal = CommandError.fromResult(result)
    if (refusal) throw refusal
    return result as CommandResults[N]
  }

  /**
   * The result the command with this key had (kept by the conductor once it completed), or the
   * result of its job, the first one's if a retry comes while it runs: never a second object.
   */
  private async idempotentCommand(name: string, data: unknown, timeoutMs: number, { scope, key }: Idempotency): Promise<unknown> {
    const jobId = idempotentJobId(name, scope, key)
    const redis = await this.commands.getBackend().client
    const kept = await redis.get(idempotentResultKey(this.options.prefix, jobId))
    if (kept !== null) return JSON.parse(kept)
    return this.addAndWait(this.commands, name, data, timeoutMs, jobId)
  }

  /** The workers taking jobs from each queue an agent sends to (by queue name): none where no conductor of the prefix runs. */
  async agentQueueWorkers(): Promise<Record<string, number>> {
    const queues = [this.inventory, this.writes]
    const counts = await Promise.all(queues.map((queue) => queue.getWorkersCount()))
    return Object.fromEntries(queues.map((queue, index) => [queue.name, counts[index]!]))
  }

  /** Adds the job and waits for its result; past `timeoutMs` rejects with a ConductorTimeoutError. */
  private async addAndWait(queue: Queue, name: string, data: unknown, timeoutMs: number, jobId?: string): Promise<unknown> {
    const deadline = Date.now() + timeoutMs
    // Opened before the job exists, so its result cannot pass unseen; the first call opens it, which
    // with Redis hung would wait without end.
    const events = await withDeadline(this.eventsOf(queue), timeoutMs, () => new ConductorTimeoutError(name, timeoutMs))
    const job = await queue.add(name, data, jobId ? { ...CALL_JOB_OPTIONS, jobId } : CALL_JOB_OPTIONS)
    const left = Math.max(1, deadline - Date.now())
    // BullMQ's wait has a timer of its own and tells its timeout only by message: it gets a later one, so the
    // call's own deadline always ends the wait first, with a ConductorTimeoutError.
    return withDeadline(job.waitUntilFinished(events, left + WAIT_TIMER_MARGIN_MS), left, () => new ConductorTimeoutError(name, timeoutMs))
  }

  async close(): Promise<void> {
    const opened = (await Promise.allSettled(this.events.values())).flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    await Promise.all([this.writes, this.reads, this.inventory, this.commands, ...opened].map((each) => each.close()))
  }
}

/** A ContractError when the job's data, as JSON, is larger than JOB_MAX_BYTES. */
function checkJobSize(data: unknown, maxBytes: number, what: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(data))
  if (bytes > maxBytes) throw new ContractError(`invalid ${what}: ${bytes} bytes of JSON, more than the ${maxBytes} allowed (JOB_MAX_BYTES)`)
}

function checked<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data)
  if (!parsed.success) throw new ContractError(`invalid ${what}: ${describeIssues(parsed.error)}`)
  return parsed.data
}
