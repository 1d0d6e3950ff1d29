// `npx tsx bench/upsert-cpu.ts [rows]`: client CPU and wall time of one flush statement of `rows` usage rows (5,000, FLUSH_BATCH_MAX's
// default), EntityStore.upsert (the rows as one JSON document) against the statement it replaced (three parameter arrays through
// unnest), interleaved, eight rounds after a first one, medians. DATABASE_URL defaults to the bench's database; its rows are removed.
import { performance } from 'node:perf_hooks'
import { EntityStore } from '../src/buffer/entity-store.ts'
import type { VersionedRow } from '../src/buffer/rows.ts'
import { createPrismaClient } from '../src/db/prisma-client.ts'

const count = Number(process.argv[2] ?? 5000)
const prisma = createPrismaClient(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/cyborg_bench')
const store = new EntityStore()
const prefix = `upsert-cpu-${process.pid}`
let version = Date.now()
const rowsOf = (): VersionedRow[] => {
  version += 1
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-${i}`,
    version,
    valueJson: JSON.stringify({ accelerators_in_use: i % 4, utilization_percent: 48.3, memory_used_mib: 1300, power_w: 45.1, temperature_c: 43.5 }),
  }))
}
const statements: Record<string, (rows: VersionedRow[]) => Promise<number>> = {
  'three arrays (unnest)': (rows) => prisma.$executeRaw`
    INSERT INTO "deployable_usages" AS stored ("deployable_uuid", version, "metrics")
    SELECT * FROM unnest(${rows.map((row) => row.key)}::text[], ${rows.map((row) => BigInt(row.version))}::bigint[], ${rows.map((row) => row.valueJson)}::jsonb[])
    ON CONFLICT ("deployable_uuid") DO UPDATE SET version = excluded.version, "metrics" = excluded."metrics", updated_at = now()
    WHERE stored.version < excluded.version`,
  'EntityStore.upsert (one JSON document)': (rows) => store.upsert(prisma, 'usage', rows),
}
const cpuMs: Record<string, number[]> = {}
const wallMs: Record<string, number[]> = {}
for (let round = 0; round < 9; round++) {
  for (const [name, upsert] of Object.entries(statements)) {
    const rows = rowsOf()
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    const written = await upsert(rows)
    const wall = performance.now() - wall0
    const cpu = process.cpuUsage(cpu0)
    if (written !== count) throw new Error(`${name} wrote ${written} rows of ${count}`)
    if (round === 0) continue
    ;(cpuMs[name] ??= []).push((cpu.user + cpu.system) / 1000)
    ;(wallMs[name] ??= []).push(wall)
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!.toFixed(1)
for (const name of Object.keys(statements))
  console.log(`${name}: ${median(cpuMs[name]!)} ms CPU, ${median(wallMs[name]!)} ms wall per ${count}-row upsert (median of 8)`)
await prisma.deployableUsage.deleteMany({ where: { deployableUuid: { startsWith: prefix } } })
await prisma.$disconnect()
