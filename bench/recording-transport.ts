import type { AgentTransport } from '../src/agent/agent.ts'
import type { ConductorClient } from '../src/queues/client/conductor-client.ts'
import type { Write } from '../src/queues/contract/writes.ts'
import type { InventoryReport } from '../src/queues/contract/inventory.ts'
import type { DurabilityTracker } from './durability-tracker.ts'

/** The conductor path: the real client, with each write's enqueue time noted for accept→durable. */
export class RecordingTransport implements AgentTransport {
  constructor(
    private readonly client: ConductorClient,
    private readonly tracker: DurabilityTracker,
  ) {}

  castBatch(writes: Write[]): Promise<string> {
    // Noted before the job exists: a flush could otherwise commit a write not yet known to the tracker.
    const at = Date.now()
    for (const write of writes) this.tracker.enqueued(write.key, write.version, at)
    return this.client.castBatch(writes)
  }

  reportInventory(report: InventoryReport): Promise<string> {
    return this.client.reportInventory(report)
  }
}
