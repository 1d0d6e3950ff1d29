import { UnrecoverableError, type Job } from 'bullmq'
import type { VersionedRow } from '../cache/rows.ts'
import type { AcceptOutcome, WriteBuffer } from '../cache/write-buffer.ts'
import { describeIssues, writeBatchEnvelopeSchema, writeSchema, type WriteResult } from '../queues/contract.ts'
import type { EntityName } from '../queues/entities.ts'
import { WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from '../queues/names.ts'
import type { ReadThrough } from './read-through.ts'
import { describeSqlError } from './sql-state.ts'

// One Lua call accepts at most this many writes, so a 10,000-write batch never blocks Redis for long.
const ACCEPT_CHUNK = 1000

type ParsedWrite = { entity: EntityName; row: VersionedRow }

/** Processes `write` and `write-batch` jobs: validates them and accepts them into the pending buffer. */
export class WriteProcessor {
  constructor(
    private readonly buffer: WriteBuffer,
    private readonly readThrough: ReadThrough,
    private readonly valueMaxBytes: number,
  ) {}

  async process(job: Job): Promise<WriteResult> {
    if (job.name === WRITE_JOB) {
      const write = this.parse(job.data)
      if (typeof write === 'string') throw new UnrecoverableError(`invalid write: ${write}`)
      return this.acceptAll([write])
    }
    if (job.name === WRITE_BATCH_JOB) return this.processBatch(job.data)
    throw new UnrecoverableError(
      `unknown job name ${JSON.stringify(job.name)} on ${WRITE_QUEUE}: expected "${WRITE_JOB}" or "${WRITE_BATCH_JOB}"`,
    )
  }

  private async processBatch(data: unknown): Promise<WriteResult> {
    const envelope = writeBatchEnvelopeSchema.safeParse(data)
    if (!envelope.success) throw new UnrecoverableError(`invalid write-batch: ${describeIssues(envelope.error)}`)
    const valid: ParsedWrite[] = []
    const invalid: WriteResult['invalid'] & {} = []
    envelope.data.writes.forEach((entry, index) => {
      const write = this.parse(entry, ['writes', index])
      if (typeof write === 'string') invalid.push({ index, reason: write })
      else valid.push(write)
    })
    if (valid.length === 0) {
      const reasons = invalid.slice(0, 10).map((entry) => entry.reason)
      throw new UnrecoverableError(
        `invalid write-batch: none of its ${invalid.length} writes is valid: ${reasons.join('; ')}${invalid.length > 10 ? '; …' : ''}`,
      )
    }
    const result = await this.acceptAll(valid)
    return invalid.length > 0 ? { ...result, invalid } : result
  }

  /** A valid write, or the reason it is not. */
  private parse(data: unknown, path: (string | number)[] = []): ParsedWrite | string {
    const parsed = writeSchema.safeParse(data)
    if (!parsed.success) return describeIssues(parsed.error, path)
    const { entity, key, version, value } = parsed.data
    const valueJson = JSON.stringify(value)
    const bytes = Buffer.byteLength(valueJson)
    if (bytes > this.valueMaxBytes) {
      return `${[...path, 'value'].join('.')}: ${bytes} bytes of JSON, more than the ${this.valueMaxBytes} allowed (WRITE_VALUE_MAX_BYTES)`
    }
    return { entity: entity as EntityName, row: { key, version, valueJson } }
  }

  /**
   * Accepts the writes chunk by chunk. Writes refused by back-pressure fail the job after the rest
   * are accepted; BullMQ retries it, and the writes accepted the first time then count as stale.
   */
  private async acceptAll(writes: ParsedWrite[]): Promise<WriteResult> {
    const result = { accepted: 0, stale: 0 }
    let refused = 0
    let backPressure = ''
    const byEntity = new Map<EntityName, ParsedWrite[]>()
    for (const write of writes) {
      const group = byEntity.get(write.entity)
      if (group) group.push(write)
      else byEntity.set(write.entity, [write])
    }
    for (const [entity, entityWrites] of byEntity) {
      for (let start = 0; start < entityWrites.length; start += ACCEPT_CHUNK) {
        const rows = entityWrites.slice(start, start + ACCEPT_CHUNK).map((write) => write.row)
        const outcome = await this.acceptChunk(entity, rows)
        result.accepted += outcome.accepted
        result.stale += outcome.stale
        if (outcome.refused > 0) {
          refused += outcome.refused
          backPressure = this.buffer.describeBackPressure(outcome.unflushed)
        }
      }
    }
    if (refused > 0) {
      throw new Error(`${backPressure}: ${refused} of ${writes.length} writes refused (${result.accepted} accepted, ${result.stale} stale); retry later`)
    }
    return result
  }

  private async acceptChunk(entity: EntityName, rows: VersionedRow[]): Promise<Omit<AcceptOutcome, 'undecided'>> {
    const first = await this.buffer.accept(entity, rows)
    if (first.undecided.length === 0) return first
    // Keys Redis knows nothing of: their stored version is read from PostgreSQL (and cached).
    const undecided = first.undecided.map((index) => rows[index]!)
    const stored = await this.readThrough.load(entity, undecided.map((row) => row.key)).catch((error: unknown) => {
      throw new Error(
        `${undecided.length} writes of keys Redis does not know need their stored version, and reading it from PostgreSQL failed (${describeSqlError(error)}); retry later`,
        { cause: error },
      )
    })
    const storedVersions = new Map(undecided.map((row) => [row.key, stored.get(row.key)?.version ?? -1]))
    const second = await this.buffer.accept(entity, undecided, storedVersions)
    return {
      accepted: first.accepted + second.accepted,
      stale: first.stale + second.stale,
      refused: first.refused + second.refused,
      unflushed: second.unflushed,
    }
  }
}
