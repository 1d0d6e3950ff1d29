import { UnrecoverableError, type Job } from 'bullmq'
import type { EntityCache } from '../cache/entity-cache.ts'
import { describeIssues, readSchema, type ReadResult } from '../queues/contract.ts'
import type { EntityName } from '../queues/entities.ts'
import { READ_JOB, READ_QUEUE } from '../queues/names.ts'
import type { ReadThrough } from './read-through.ts'

/** Processes `read` jobs: pending writes and the cache first, PostgreSQL on a miss. */
export class ReadProcessor {
  constructor(
    private readonly cache: EntityCache,
    private readonly readThrough: ReadThrough,
  ) {}

  async process(job: Job): Promise<ReadResult> {
    if (job.name !== READ_JOB) {
      throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on ${READ_QUEUE}: expected "${READ_JOB}"`)
    }
    const parsed = readSchema.safeParse(job.data)
    if (!parsed.success) throw new UnrecoverableError(`invalid read: ${describeIssues(parsed.error)}`)
    return this.read(parsed.data.entity as EntityName, parsed.data.key)
  }

  async read(entity: EntityName, key: string): Promise<ReadResult> {
    const cached = await this.cache.read(entity, key)
    if (cached) return { found: true, ...cached }
    const row = (await this.readThrough.load(entity, [key])).get(key)
    if (!row) return { found: false, value: null, version: null, source: 'db' }
    return { found: true, value: JSON.parse(row.valueJson), version: row.version, source: 'db' }
  }
}
