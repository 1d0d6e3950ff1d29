import { UnrecoverableError, type Job } from 'bullmq'
import type { Logger } from 'pino'
import type { InventoryCache } from '../cache/inventory-cache.ts'
import type { WriteBuffer } from '../cache/write-buffer.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { describeIssues } from '../queues/contract.ts'
import { inventoryReportSchema, type InventoryResult } from '../queues/inventory.ts'
import { INVENTORY_QUEUE, INVENTORY_REPORT_JOB } from '../queues/names.ts'
import type { InventoryStore } from './inventory-store.ts'
import { sqlState } from './sql-state.ts'

/**
 * Reconciles inventory snapshots. The host's stored tree comes from the cache, so an unchanged
 * snapshot costs no SQL; a changed one is applied in one transaction, so a failure leaves the host as
 * it was.
 */
export class InventoryProcessor {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: InventoryStore,
    private readonly cache: InventoryCache,
    private readonly buffer: WriteBuffer,
    private readonly log: Logger,
  ) {}

  async process(job: Job): Promise<InventoryResult> {
    if (job.name !== INVENTORY_REPORT_JOB) {
      throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on ${INVENTORY_QUEUE}: expected "${INVENTORY_REPORT_JOB}"`)
    }
    const parsed = inventoryReportSchema.safeParse(job.data)
    if (!parsed.success) throw new UnrecoverableError(`invalid inventory report: ${describeIssues(parsed.error)}`)
    const report = parsed.data
    const stored = (await this.cache.get(report.hostname)) ?? (await this.store.load(this.prisma, report.hostname))
    if (report.version <= stored.version) return { applied: false, added: 0, updated: 0, deleted: 0 }
    if (this.store.unchanged(stored, report)) {
      await this.cache.set({ ...stored, version: report.version })
      return { applied: true, added: 0, updated: 0, deleted: 0 }
    }

    let outcome
    try {
      outcome = await this.prisma.$transaction(async (tx) => {
        const result = await this.store.reconcile(tx, stored, report)
        await tx.deployableUsage.deleteMany({ where: { deployableUuid: { in: result.removedDeployables } } })
        return { result, tree: await this.store.load(tx, report.hostname) }
      })
    } catch (error) {
      // The tree may have been cached before another conductor changed it: reload it next time.
      await this.cache.forget(report.hostname)
      if (sqlState(error) === '23505' || (error as { code?: string }).code === 'P2002') {
        throw new UnrecoverableError(`conflict: host ${report.hostname} reports a deployable name another host already has: ${String((error as Error).message).split('\n').at(-1)}`)
      }
      throw error
    }
    await this.buffer.forget('usage', outcome.result.removedDeployables)
    await this.cache.set({ ...outcome.tree, version: report.version })
    const { added, updated, deleted } = outcome.result
    if (added + updated + deleted > 0) this.log.info({ hostname: report.hostname, added, updated, deleted }, 'inventory reconciled')
    return { applied: true, added, updated, deleted }
  }
}
