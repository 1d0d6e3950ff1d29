import type { AgentTransport } from '../src/agent/agent.ts'
import type { PrismaClient } from '../src/generated/prisma/client.ts'
import type { Write } from '../src/queues/contract/writes.ts'
import type { EntityName } from '../src/queues/contract/entities.ts'
import { EntityStore } from '../src/buffer/entity-store.ts'
import type { DurabilityTracker } from './durability-tracker.ts'

/**
 * The design the conductor replaces: every agent writes each usage update straight to PostgreSQL,
 * one version-guarded upsert per update, each its own transaction.
 */
export class DirectTransport implements AgentTransport {
  private readonly store = new EntityStore()

  constructor(
    private readonly prisma: PrismaClient,
    private readonly tracker: DurabilityTracker,
  ) {}

  async castBatch(writes: Write[]): Promise<string> {
    const at = Date.now()
    for (const write of writes) this.tracker.enqueued(write.key, write.version, at)
    for (const { entity, key, version, value } of writes) {
      await this.store.upsert(this.prisma, entity as EntityName, [{ key, version, valueJson: JSON.stringify(value) }])
      this.tracker.durable(key, version, Date.now())
    }
    return `direct-${at}`
  }

  async reportInventory(): Promise<string> {
    throw new Error('the benchmark measures usage writes only: the direct design has no inventory path here')
  }
}
