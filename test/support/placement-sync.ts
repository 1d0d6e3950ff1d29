import { Queue } from 'bullmq'
import type { HostSyncResult } from '../../src/placement/placement-sync.ts'
import { PLACEMENT_SYNC_QUEUE } from '../../src/placement/placement-sync-queue.ts'
import { queuePrefix } from '../../src/redis/connection.ts'
import { CountingProxy } from './counting-proxy.ts'
import { startHarness, type Harness, type Settings } from './harness.ts'
import { startPlacement } from './openstack.ts'
import { PlacementAdmin } from './placement-admin.ts'
import { waitFor } from './wait-for.ts'

/** The harness's Placement sync queue, read from outside: the syncs each host has completed. */
export function placementSyncs(harness: Harness) {
  const queue = new Queue(PLACEMENT_SYNC_QUEUE, { connection: harness.redis, prefix: queuePrefix(harness.config) })
  const completed = async (hostname: string): Promise<HostSyncResult[]> => {
    const jobs = await queue.getJobs(['completed'], 0, -1)
    return jobs
      .filter((job) => job.data.hostname === hostname)
      .sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0))
      .map((job) => job.returnvalue as HostSyncResult)
  }
  return {
    queue,
    completed,
    /** Waits for the host's `count`-th completed sync and returns it. */
    async waitForSync(hostname: string, count: number, timeoutMs = 30_000): Promise<HostSyncResult> {
      return waitFor(async () => (await completed(hostname))[count - 1], `sync ${count} of ${hostname}`, timeoutMs)
    },
    close: () => queue.close(),
  }
}

/**
 * A real Placement behind a counting proxy, a harness that syncs to it through the proxy, and its sync
 * queue; `cleanups` gets what closes each, to run in reverse order.
 */
export async function startPlacementSync(settings: Settings, cleanups: (() => Promise<unknown>)[]) {
  const placement = await startPlacement()
  cleanups.push(() => placement.remove())
  const proxy = await CountingProxy.start(placement.url)
  cleanups.push(() => proxy.close())
  const harness = await startHarness({ PLACEMENT_URL: proxy.url, ...settings })
  cleanups.push(() => harness.close())
  const syncs = placementSyncs(harness)
  cleanups.push(() => syncs.close())
  return { placement, proxy, admin: new PlacementAdmin(placement.url), harness, syncs }
}
