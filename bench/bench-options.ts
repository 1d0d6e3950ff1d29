import { parseArgs } from 'node:util'

/** What one `npm run bench` run does; every figure of the run is taken under these settings. */
export interface BenchOptions {
  agents: number
  devices: number
  /** Seconds between two usage reports of one agent. */
  intervalS: number
  /** Seconds of paced reporting in the direct and conductor phases (after one warm-up report). */
  durationS: number
  flushIntervalMs: number
  batchMax: number
  /** Conductor processes (src/server.ts) that drain the conductor capacity phase together. */
  conductors: number
  /** The conductors' FLUSH_SHARDS, in every phase: at least one shard per conductor by default. */
  flushShards: number
  /** Reports per agent queued for each capacity phase's warm-up drain, whose rate sizes the measured drain. */
  capacityRounds: number
  /** Seconds the measured capacity drains should last, sized from the warm-up's rate. */
  drainS: number
  /** Seconds of each read load (read queue, HTTP, Prisma findUnique). */
  readS: number
  readConcurrency: number
  httpConnections: number
  database: string
  quick: boolean
  /** The rate-ratio gates of --quick are printed, not judged (the transaction gate always is). */
  rateGatesReported: boolean
}

const FULL = { agents: 1000, durationS: 60, capacityRounds: 20, drainS: 20, readS: 10 }
// Small enough to finish in about a minute on the 2-core CI machine, migrations included.
const QUICK = { agents: 100, durationS: 4, capacityRounds: 10, drainS: 2, readS: 1.5 }

export const USAGE = `npm run bench -- [options]
  --quick                 CI smoke run (${QUICK.agents} agents, ${QUICK.durationS} s): fails when a gated figure misses half its target (docs/performance.md)
  --report-rate-gates     with --quick: print the rate-ratio gates without failing on them (the transaction gate still fails)
  --agents N              simulated agents (${FULL.agents})
  --devices N             devices, so usage keys, per agent (8)
  --interval S            seconds between two usage reports of an agent (1)
  --duration S            seconds of paced reporting per phase (${FULL.durationS})
  --flush-interval MS     the conductor's FLUSH_INTERVAL_MS (1000)
  --batch-max N           the conductor's FLUSH_BATCH_MAX (5000)
  --conductors N          conductor processes draining the conductor capacity phase together (1)
  --flush-shards N        the conductors' FLUSH_SHARDS (as many as --conductors)
  --capacity-rounds N     reports per agent queued for each capacity warm-up drain (${FULL.capacityRounds})
  --drain-seconds S       how long each measured capacity drain should last (${FULL.drainS}; at most 240,000 jobs)
  --read-seconds S        seconds of each read load (${FULL.readS})
  --read-concurrency N    reads in flight through the read queue and Prisma (32)
  --http-connections N    HTTP connections of the cached-read load (8)
  --database NAME         the bench's own PostgreSQL database, created if missing (cyborg_bench)`

export function parseBenchOptions(args: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean', default: false },
      'report-rate-gates': { type: 'boolean', default: false },
      agents: { type: 'string' },
      devices: { type: 'string' },
      interval: { type: 'string' },
      duration: { type: 'string' },
      'flush-interval': { type: 'string' },
      'batch-max': { type: 'string' },
      conductors: { type: 'string' },
      'flush-shards': { type: 'string' },
      'capacity-rounds': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'read-seconds': { type: 'string' },
      'read-concurrency': { type: 'string' },
      'http-connections': { type: 'string' },
      database: { type: 'string' },
    },
  })
  if (values.help) return 'help'
  const scale = values.quick ? QUICK : FULL
  const conductors = positive('conductors', values.conductors, 1)
  return {
    quick: values.quick ?? false,
    rateGatesReported: values['report-rate-gates'] ?? false,
    agents: positive('agents', values.agents, scale.agents),
    devices: positive('devices', values.devices, 8),
    intervalS: positive('interval', values.interval, 1, false),
    durationS: positive('duration', values.duration, scale.durationS, false),
    flushIntervalMs: positive('flush-interval', values['flush-interval'], 1000),
    batchMax: positive('batch-max', values['batch-max'], 5000),
    conductors,
    flushShards: positive('flush-shards', values['flush-shards'], conductors),
    capacityRounds: positive('capacity-rounds', values['capacity-rounds'], scale.capacityRounds),
    drainS: positive('drain-seconds', values['drain-seconds'], scale.drainS, false),
    readS: positive('read-seconds', values['read-seconds'], scale.readS, false),
    readConcurrency: positive('read-concurrency', values['read-concurrency'], 32),
    httpConnections: positive('http-connections', values['http-connections'], 8),
    database: values.database ?? 'cyborg_bench',
  }
}

function positive(name: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!(value > 0) || (integer && !Number.isInteger(value)))
    throw new Error(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`)
  return value
}
