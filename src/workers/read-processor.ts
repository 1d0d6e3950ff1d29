import type { ReadThrough } from '../cache/read-through.ts'
import type { EntityName } from '../queues/contract/entities.ts'
import { READ_JOB, READ_QUEUE } from '../queues/contract/names.ts'
import { readSchema } from '../queues/contract/writes.ts'
import { JobRouter, route } from './job-router.ts'

/** `read` jobs: the read path's miss, served by the read-through. */
export class ReadProcessor extends JobRouter {
  constructor(reads: ReadThrough) {
    super(READ_QUEUE, {
      [READ_JOB]: route(readSchema, 'invalid read', ({ entity, key }) => reads.read(entity as EntityName, key)),
    })
  }
}
