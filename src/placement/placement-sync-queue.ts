import type { Queue } from 'bullmq'
import { z } from 'zod'

/** Internal queue of the conductors: one `sync` job per host waiting to be reported to Placement. Producers never add to it. */
export const PLACEMENT_SYNC_QUEUE = 'conductor-placement-sync'
export const PLACEMENT_SYNC_JOB = 'sync'
/** The back-off type of sync jobs; the worker's backoffStrategy computes it (placementBackoffMs). */
export const PLACEMENT_BACKOFF = 'placement'

export const placementSyncJobSchema = z.object({ hostname: z.string().min(1).max(255) })

/**
 * Queues a host's Placement sync. The job names the host only: it syncs whatever the host's newest
 * reconciled tree is when it runs. So while one waits (or backs off while Placement is down) the
 * host's further reports add nothing (BullMQ deduplication by hostname), and one arriving while it
 * runs is kept and queued when it ends (keepLastIfActive): the newest snapshot is always synced,
 * never two syncs of one host at once, and ten reports during an outage cost one sync.
 */
export class PlacementSyncQueue {
  constructor(
    private readonly queue: Queue,
    private readonly attempts: number,
  ) {}

  async enqueue(hostname: string): Promise<void> {
    await this.queue.add(
      PLACEMENT_SYNC_JOB,
      { hostname },
      {
        deduplication: { id: hostname, keepLastIfActive: true },
        attempts: this.attempts,
        backoff: { type: PLACEMENT_BACKOFF },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
      },
    )
  }
}
