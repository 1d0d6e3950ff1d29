import type { Logger } from 'pino'
import type { WriteBuffer } from '../buffer/write-buffer.ts'
import type { InventoryCache, StoredHost } from '../cache/inventory-cache.ts'
import { isTransactionExpired, isUniqueViolation } from '../db/sql-state.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import type { InventoryReport, InventoryResult } from '../queues/contract/inventory.ts'
import type { InventoryStore, ReconcileOutcome } from './inventory-store.ts'

/**
 * Reconciles a host's inventory snapshot with PostgreSQL, as Cyborg's report_data. The host's stored
 * tree comes from the cache, so an unchanged snapshot costs no SQL; a changed one is applied in one
 * transaction, so a failure leaves the host as it was.
 */
export class InventoryReconciler {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: InventoryStore,
    private readonly cache: InventoryCache,
    private readonly buffer: WriteBuffer,
    private readonly log: Logger,
    /** INVENTORY_TIMEOUT_MS: how long one host's transaction may run. */
    private readonly timeoutMs: number,
  ) {}

  /** Applies the snapshot; a deployable name another host already has is refused with a `conflict` CommandError. */
  async reconcile(report: InventoryReport): Promise<InventoryResult> {
    const stored = (await this.cache.get(report.hostname)) ?? (await this.store.load(this.prisma, report.hostname))
    if (report.version <= stored.version) return { applied: false, added: 0, updated: 0, deleted: 0 }
    if (this.store.unchanged(stored, report)) {
      await this.cache.set({ ...stored, version: report.version })
      return { applied: true, added: 0, updated: 0, deleted: 0 }
    }

    let outcome: { result: ReconcileOutcome; tree: StoredHost }
    try {
      outcome = await this.prisma.$transaction(
        async (tx) => {
          const result = await this.store.reconcile(tx, stored, report)
          await tx.deployableUsage.deleteMany({ where: { deployableUuid: { in: result.removedDeployables } } })
          return { result, tree: await this.store.load(tx, report.hostname) }
        },
        { maxWait: this.timeoutMs, timeout: this.timeoutMs },
      )
    } catch (error) {
      // The tree may have been cached before another conductor changed it: reload it next time.
      await this.cache.forget(report.hostname)
      if (isUniqueViolation(error)) {
        const detail = String((error as Error).message)
          .split('\n')
          .at(-1)
        throw new CommandError('conflict', `host ${report.hostname} reports a deployable name another host already has: ${detail}`)
      }
      if (isTransactionExpired(error)) {
        throw new Error(
          `the inventory of host ${report.hostname} (${report.devices.length} devices) was not applied within INVENTORY_TIMEOUT_MS (${this.timeoutMs} ms); it was rolled back, and the host's next report tries again`,
        )
      }
      throw error
    }
    // The usage of deployables gone from the host: no later flush may write it back.
    await this.buffer.forget('usage', outcome.result.removedDeployables)
    await this.cache.set({ ...outcome.tree, version: report.version })
    const { added, updated, deleted } = outcome.result
    if (added + updated + deleted > 0) this.log.info({ hostname: report.hostname, added, updated, deleted }, 'inventory reconciled')
    return { applied: true, added, updated, deleted }
  }
}
