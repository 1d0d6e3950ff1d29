// `npm run bench`: the conductor against the design it replaces, on the real Redis and PostgreSQL, in one run.
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { loadConfig } from '../src/config.ts'
import { fleetKeys } from './agent-fleet.ts'
import type { BenchContext } from './bench-context.ts'
import { BenchDatabase } from './bench-database.ts'
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.ts'
import type { BenchResults } from './bench-results.ts'
import { failedGates, figures, formatTable } from './figures.ts'
import { runConductorCapacity, runRawQueueCapacity } from './phases/capacity-phase.ts'
import { runConductorPhase } from './phases/conductor-phase.ts'
import { runDirectCapacity } from './phases/direct-capacity-phase.ts'
import { runDirectPhase } from './phases/direct-phase.ts'
import { runReadPhase } from './phases/read-phase.ts'
import { runUnnestBaseline } from './phases/unnest-baseline.ts'
import { formatProfiles } from './profile-report.ts'
import { Progress } from './progress.ts'
import { deleteUnder, usedMemory } from './redis-memory.ts'
import { resultsChart } from './results-chart.ts'

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

let options: BenchOptions
try {
  const parsed = parseBenchOptions(process.argv.slice(2))
  if (parsed === 'help') {
    console.log(USAGE)
    process.exit(0)
  }
  options = parsed
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
  process.exit(2)
}

// REDIS_URL and DATABASE_URL say which servers; the bench uses its own database and prefix on them.
const server = loadConfig()
const prefix = `bench-${randomBytes(4).toString('hex')}`
const log = pino({ level: 'warn' })
const progress = new Progress()
progress.line('setup', { database: options.database, prefix })
const db = await BenchDatabase.prepare(server.DATABASE_URL, options.database)
const config = loadConfig({
  REDIS_URL: server.REDIS_URL,
  DATABASE_URL: db.url,
  CONDUCTOR_PREFIX: prefix,
  FLUSH_INTERVAL_MS: String(options.flushIntervalMs),
  FLUSH_BATCH_MAX: String(options.batchMax),
  FLUSH_SHARDS: String(options.flushShards),
  LOG_LEVEL: 'warn',
})
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
const keys = await fleetKeys({ hostPrefix: prefix, agents: options.agents, devices: options.devices })
const context: BenchContext = { options, config, db, redis, log, progress, hostPrefix: prefix, keys }

let exitCode = 0
try {
  const startedAt = new Date().toISOString()
  const loadAtStart = os.loadavg()[0]!
  const direct = await runDirectPhase(context)
  const conductor = await runConductorPhase(context)
  const rawQueue = await runRawQueueCapacity(context)
  const conductorCapacity = await runConductorCapacity(context)
  const reads = await runReadPhase(context)
  const unnest = await runUnnestBaseline(context)
  // Last: its versions are above any the agents wrote.
  const directCapacity = await runDirectCapacity(context)
  const results: BenchResults = {
    startedAt,
    options,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      redis: /^redis_version:(.+)$/m.exec(await redis.info('server'))?.[1]?.trim() ?? 'unknown',
      postgres: await db.serverVersion(),
      loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
    },
    direct,
    conductor,
    rawQueue,
    conductorCapacity,
    directCapacity,
    reads,
    unnest,
    redisUsedMemoryAtEnd: await usedMemory(redis),
  }
  const table = figures(results)
  await mkdir(RESULTS_DIR, { recursive: true })
  const stem = `${RESULTS_DIR}${startedAt.replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}`
  await writeFile(`${stem}.json`, `${JSON.stringify({ ...results, figures: table }, null, 2)}\n`)
  await writeFile(`${stem}.svg`, resultsChart(results))
  console.log(`\n${formatTable(table)}\n\n${formatProfiles(results)}\n`)
  console.log(`results: ${stem}.json\nchart:   ${stem}.svg`)
  const { transactions: conductorTx } = conductor.sql
  const { transactions: directTx } = direct.sql
  if (!(conductorTx < directTx)) {
    console.error(`FAILED: the conductor sent ${conductorTx} SQL transactions, direct ${directTx}: the conductor must send fewer`)
    exitCode = 1
  }
  if (options.quick) {
    // Two rates measured a minute apart share the machine's conditions only when nothing else loads it:
    // above one runnable process per core, a missed rate ratio is reported, not judged.
    const loaded = Math.max(results.machine.loadAverage.start, results.machine.loadAverage.end) > results.machine.cpus
    for (const row of failedGates(table)) {
      const line = `${row.figure} is ${row.ratio === null ? row.conductor : `${row.ratio.toFixed(2)}×`}; --quick needs ${row.gate!.limit} (half the target ${row.target})`
      if (row.gate!.rates && options.rateGatesReported) {
        console.warn(`NOT JUDGED: ${line} (--report-rate-gates)`)
        continue
      }
      if (row.gate!.rates && loaded) {
        console.warn(
          `NOT JUDGED: ${line}, but the load average was ${results.machine.loadAverage.start.toFixed(1)} → ${results.machine.loadAverage.end.toFixed(1)} on ${results.machine.cpus} cores`,
        )
        continue
      }
      console.error(`FAILED: ${line}`)
      exitCode = 1
    }
  }
} catch (error) {
  console.error('the benchmark failed:', error)
  exitCode = 1
} finally {
  await deleteUnder(redis, prefix)
  await deleteUnder(redis, `${prefix}-raw`)
  await db.deleteUsage(keys)
  await db.close()
  redis.disconnect()
}
process.exit(exitCode)
