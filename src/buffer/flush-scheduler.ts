import type { Queue } from 'bullmq'
import { entityNames } from '../queues/contract/entities.ts'
import { FLUSH_JOB } from '../queues/contract/names.ts'

/** How long finished flush jobs stay for Bull Board: the last hundred, and failures a week with their reasons. */
const KEEP_FLUSHES = { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600, count: 10_000 } }

/**
 * The repeatable flush: one BullMQ job scheduler per shard of each entity, `flush:<entity>:<shard>`.
 * Several conductors upsert the same ones, so one flush job per shard runs per interval.
 */
export class FlushScheduler {
  constructor(
    private readonly flushQueue: Queue,
    private readonly intervalMs: number,
    private readonly shards: number,
  ) {}

  /**
   * Puts back the wanted schedulers that are gone (removed by hand or in Bull Board, or lost with Redis's
   * last writes); leaves the others alone, so their rhythm is kept.
   */
  async renew(): Promise<string[]> {
    const missing: string[] = []
    for (const { entity, shard, id } of this.wanted()) {
      if (await this.flushQueue.getJobScheduler(id)) continue
      await this.upsert(id, entity, shard)
      missing.push(id)
    }
    return missing
  }

  private wanted() {
    return entityNames.flatMap((entity) => Array.from({ length: this.shards }, (_, shard) => ({ entity, shard, id: `flush:${entity}:${shard}` })))
  }

  private upsert(id: string, entity: string, shard: number) {
    return this.flushQueue.upsertJobScheduler(id, { every: this.intervalMs }, { name: FLUSH_JOB, data: { entity, shard }, opts: KEEP_FLUSHES })
  }

  /** Upserts the wanted schedulers and removes those of shards no longer used (FLUSH_SHARDS lowered, or the unsharded `flush:<entity>` of earlier versions). */
  async schedule(): Promise<void> {
    const wanted = this.wanted()
    for (const scheduler of await this.flushQueue.getJobSchedulers(0, -1)) {
      if (!wanted.some(({ id }) => id === scheduler.key)) await this.flushQueue.removeJobScheduler(scheduler.key)
    }
    for (const { entity, shard, id } of wanted) {
      // BullMQ keeps the old schedule's offset when `every` changes, which can put the next flush up to
      // the old interval away: a scheduler of another interval is replaced, not updated.
      const current = await this.flushQueue.getJobScheduler(id)
      if (current && current.every !== this.intervalMs) await this.flushQueue.removeJobScheduler(id)
      await this.upsert(id, entity, shard)
    }
  }
}
