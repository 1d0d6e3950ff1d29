import type { PreparedWrite, WriteIntake } from '../buffer/write-intake.ts'
import type { DeadLetter } from '../buffer/rows.ts'
import { WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from '../queues/contract/names.ts'
import { WriteValidator } from '../queues/contract/write-validator.ts'
import { INVALID_LISTED_MAX, REASON_MAX_CHARS, writeBatchEnvelopeSchema, writeSchema, type Write, type WriteResult } from '../queues/contract/writes.ts'
import { InvalidJobError } from './invalid-job-error.ts'
import { JobRouter, route } from './job-router.ts'

/**
 * `write` and `write-batch` jobs: validated here, once, then handed to the write intake. The invalid
 * writes of a batch are answered by index while the valid ones are accepted.
 */
export class WriteProcessor extends JobRouter {
  private readonly validator = new WriteValidator()

  constructor(private readonly intake: WriteIntake) {
    super(WRITE_QUEUE, {
      [WRITE_JOB]: route(writeSchema, 'invalid write', (write) => this.single(write)),
      [WRITE_BATCH_JOB]: route(writeBatchEnvelopeSchema, 'invalid write-batch', ({ writes }) => this.batch(writes)),
    })
  }

  private async single(write: Write): Promise<WriteResult> {
    const prepared = this.intake.prepare(write)
    if (typeof prepared === 'string') throw new InvalidJobError(`invalid write: ${prepared}`)
    return this.intake.accept([prepared])
  }

  private async batch(entries: unknown[]): Promise<WriteResult> {
    const valid: PreparedWrite[] = []
    const invalid: NonNullable<WriteResult['invalid']> = []
    for (let index = 0; index < entries.length; index++) {
      const path = ['writes', index]
      const write = this.validator.check(entries[index], path)
      const prepared = typeof write === 'string' ? write : this.intake.prepare(write, path)
      if (typeof prepared === 'string') invalid.push({ index, reason: shortened(prepared) })
      else valid.push(prepared)
    }
    if (valid.length === 0) {
      const reasons = invalid.slice(0, 10).map((entry) => entry.reason)
      throw new InvalidJobError(`invalid write-batch: none of its ${invalid.length} writes is valid: ${reasons.join('; ')}${invalid.length > 10 ? '; …' : ''}`)
    }
    const result = await this.intake.accept(valid)
    return invalid.length > 0 ? { ...result, invalid: invalid.slice(0, INVALID_LISTED_MAX) } : result
  }
}

function shortened(reason: string): string {
  return reason.length <= REASON_MAX_CHARS ? reason : `${reason.slice(0, REASON_MAX_CHARS - 1)}…`
}

/** The writes of a `write` or `write-batch` job's data, as dead letters with `reason` (entries that are no write left out). */
export function deadLettersOf(data: unknown, reason: string): DeadLetter[] {
  const entries = Array.isArray((data as { writes?: unknown } | null)?.writes) ? (data as { writes: unknown[] }).writes : [data]
  const at = new Date().toISOString()
  return entries.flatMap((entry) => {
    const parsed = writeSchema.safeParse(entry)
    if (!parsed.success) return []
    const { entity, key, version, value } = parsed.data
    return [{ entity, key, version, value, reason, at }]
  })
}
