import { EntityStore } from '../../src/buffer/entity-store.ts'
import type { VersionedRow } from '../../src/buffer/rows.ts'
import { createPrismaClient } from '../../src/db/prisma-client.ts'
import type { BenchContext } from '../bench-context.ts'
import { closedLoop, type LoadResult } from '../closed-loop.ts'

export interface DirectCapacity {
  /** Each update its own version-guarded upsert transaction (the per-update anchor). */
  perUpdate: LoadResult & { updatesPerSecond: number }
  /** Each agent report (`devices` updates) one upsert transaction, as a synchronous conductor writes per RPC. */
  perReport: LoadResult & { updatesPerSecond: number }
  /** Transactions in flight: pg's default pool size, which the direct design's pool has. */
  concurrency: number
}

// pg's default pool size, which the paced direct phase's pool has too.
const POOL_SIZE = 10
const METRICS_JSON = JSON.stringify({ accelerators_in_use: 2, utilization_percent: 48.3, memory_used_mib: 1300, power_w: 45.1, temperature_c: 43.5 })

/**
 * The direct designs at their ceiling: as many transactions in flight as the pool holds, each
 * starting when the last ends, for `readS` each. The paced direct phase offers only what the fleet
 * sends, which a design with room to spare keeps up with: its rate there is the offer, not a ceiling.
 * Versions start above any the agents wrote, so every upsert really updates its row.
 */
export async function runDirectCapacity(context: BenchContext): Promise<DirectCapacity> {
  const { options, db, keys, progress } = context
  const prisma = createPrismaClient(db.url)
  const store = new EntityStore()
  const base = Date.now() + 1_000_000
  try {
    progress.line('direct capacity: per update', { inFlight: POOL_SIZE, seconds: options.readS })
    const perUpdate = await closedLoop(options.readS, POOL_SIZE, (index) =>
      store.upsert(prisma, 'usage', [{ key: keys[index % keys.length]!, version: base + index, valueJson: METRICS_JSON }]),
    )
    progress.line('direct capacity: per report', { inFlight: POOL_SIZE, seconds: options.readS, updatesPerReport: options.devices })
    const perReport = await closedLoop(options.readS, POOL_SIZE, (index) => {
      const agent = index % options.agents
      const rows: VersionedRow[] = []
      for (let device = 0; device < options.devices; device++) {
        rows.push({ key: keys[agent * options.devices + device]!, version: base + 1_000_000 + index, valueJson: METRICS_JSON })
      }
      return store.upsert(prisma, 'usage', rows)
    })
    return {
      perUpdate: { ...perUpdate, updatesPerSecond: perUpdate.perSecond },
      perReport: { ...perReport, updatesPerSecond: perReport.perSecond * options.devices },
      concurrency: POOL_SIZE,
    }
  } finally {
    await prisma.$disconnect()
  }
}
