import type { Job } from 'bullmq'
import type { Logger } from 'pino'
import { ComputeNodeMissingError } from '../placement/compute-node-missing-error.ts'
import type { PlacementMetrics } from '../placement/placement-metrics.ts'
import type { PlacementSync } from '../placement/placement-sync.ts'
import { PLACEMENT_SYNC_JOB, PLACEMENT_SYNC_QUEUE, placementSyncJobSchema } from '../placement/placement-sync-queue.ts'
import { JobRouter, route } from './job-router.ts'

/** `sync` jobs of the Placement sync queue: one host's providers made to match its newest reconciled tree. */
export class PlacementSyncProcessor extends JobRouter {
  constructor(sync: PlacementSync, metrics: PlacementMetrics, log: Logger) {
    super(PLACEMENT_SYNC_QUEUE, {
      [PLACEMENT_SYNC_JOB]: route(placementSyncJobSchema, 'invalid placement sync', async ({ hostname }, job: Job) => {
        try {
          const result = await sync.sync(hostname)
          const changed = result.created + result.updated + result.deleted > 0
          metrics.sync(changed ? 'changed' : 'unchanged')
          metrics.synced(hostname, (Date.now() - job.timestamp) / 1000)
          if (changed) log.info({ ...result, skipped: result.skipped.length }, 'placement synced')
          return result
        } catch (error) {
          if (error instanceof ComputeNodeMissingError) {
            metrics.sync('no_compute_node')
            // An expected state while Nova comes up: one line per attempt, no stack.
            log.warn(
              { hostname, nodename: error.nodename, attempt: job.attemptsMade + 1, attempts: job.opts.attempts },
              'compute node provider not in Placement yet; retrying',
            )
          } else {
            metrics.sync('failed')
          }
          throw error
        }
      }),
    })
  }
}
