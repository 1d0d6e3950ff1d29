import { performance } from 'node:perf_hooks'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { EntityStore } from '../../src/buffer/entity-store.ts'
import { createPrismaClient } from '../../src/db/prisma-client.ts'
import type { BenchContext } from '../bench-context.ts'

export interface UnnestBaseline {
  batches: number
  rowsPerBatch: number
  rowsPerSecond: number
}

const BATCHES = 10
// Ahead of every version the agents used (they may run a few ms ahead of the clock).
const VERSION_LEAD_MS = 60_000

/**
 * The floor under the flush: the same version-guarded INSERT ... SELECT FROM unnest ... ON CONFLICT
 * statement, alone, with nothing around it (no Redis, no transaction block, no savepoint).
 */
export async function runUnnestBaseline(context: BenchContext): Promise<UnnestBaseline> {
  const { options, keys, db } = context
  const rowsPerBatch = Math.min(options.batchMax, keys.length)
  const [sample] = await new DummyDriver({ hostname: 'baseline' }).getStats()
  const valueJson = JSON.stringify(sample!.metrics)
  const prisma = createPrismaClient(db.url)
  const store = new EntityStore()
  const version = Date.now() + VERSION_LEAD_MS
  let ms = 0
  try {
    for (let batch = 0; batch < BATCHES; batch++) {
      const rows = keys.slice(0, rowsPerBatch).map((key) => ({ key, version: version + batch, valueJson }))
      const began = performance.now()
      await store.upsert(prisma, 'usage', rows)
      ms += performance.now() - began
    }
  } finally {
    await prisma.$disconnect()
  }
  return { batches: BATCHES, rowsPerBatch, rowsPerSecond: (BATCHES * rowsPerBatch * 1000) / ms }
}
