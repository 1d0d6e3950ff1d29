import { z } from 'zod'
import type { Logger } from 'pino'
import type { Flusher, FlushOutcome } from '../buffer/flusher.ts'
import type { WriteBuffer } from '../buffer/write-buffer.ts'
import { entityNames, type EntityName } from '../queues/contract/entities.ts'
import { FLUSH_JOB, FLUSH_QUEUE } from '../queues/contract/names.ts'
import { JobRouter, route } from './job-router.ts'

/** A flush job's data: the entity and the shard of the buffer to persist. */
function flushJobSchema(shards: number) {
  return z.object({
    entity: z.enum(entityNames as [EntityName, ...EntityName[]]),
    shard: z
      .int()
      .min(0)
      .max(shards - 1, `must be below FLUSH_SHARDS (${shards})`),
  })
}

/** `flush` jobs of the schedulers: one shard persisted, unless a failed flush's back-off is still running. */
export class FlushProcessor extends JobRouter {
  constructor(buffer: WriteBuffer, flusher: Flusher, log: Logger) {
    super(FLUSH_QUEUE, {
      [FLUSH_JOB]: route(flushJobSchema(buffer.shards), 'invalid flush', async ({ entity, shard }): Promise<FlushOutcome | { backoffMs: number }> => {
        await buffer.recordFlushRun(entity, shard)
        // After a failed flush (PostgreSQL down) the scheduled ones wait out the back-off rather than retry every interval.
        const backoffMs = await buffer.flushBackoffMs(entity, shard)
        if (backoffMs > 0) return { backoffMs }
        const outcome = await flusher.flush(entity, shard)
        if (outcome.transactions > 0) log.debug({ entity, shard, ...outcome }, 'flushed')
        return outcome
      }),
    })
  }
}
