import { UnrecoverableError } from 'bullmq'
import type { InventoryReconciler } from '../objects/inventory-reconciler.ts'
import type { PlacementSyncQueue } from '../placement/placement-sync-queue.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import { inventoryReportSchema } from '../queues/contract/inventory.ts'
import { INVENTORY_QUEUE, INVENTORY_REPORT_JOB } from '../queues/contract/names.ts'
import { JobRouter, route } from './job-router.ts'
import { InvalidJobError } from './invalid-job-error.ts'
import { versionTooFarAhead } from '../queues/contract/writes.ts'

/**
 * `inventory-report` jobs: a host's snapshot, reconciled. A conflict with another host fails it for good.
 * With Placement, the host's sync is queued once PostgreSQL has the snapshot: reconciliation never waits on Placement.
 */
export class InventoryProcessor extends JobRouter {
  constructor(inventory: InventoryReconciler, versionMaxAheadMs: number, placement?: PlacementSyncQueue) {
    super(INVENTORY_QUEUE, {
      [INVENTORY_REPORT_JOB]: route(inventoryReportSchema, 'invalid inventory report', async (report) => {
        // A version far ahead would make every later snapshot of the host stale: refused, as over HTTP.
        const ahead = versionTooFarAhead(report.version, versionMaxAheadMs)
        if (ahead) throw new InvalidJobError(`invalid inventory report: ${ahead}`)
        try {
          const result = await inventory.reconcile(report)
          if (result.applied) await placement?.enqueue(report.hostname)
          return result
        } catch (error) {
          // Another report of the same host would meet the same conflict: retrying cannot help.
          if (error instanceof CommandError) throw new UnrecoverableError(error.message)
          throw error
        }
      }),
    })
  }
}
