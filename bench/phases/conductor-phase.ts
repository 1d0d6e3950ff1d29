import { Queue } from 'bullmq'
import { pino } from 'pino'
import { ConductorClient } from '../../src/queues/client/conductor-client.ts'
import { WRITE_QUEUE } from '../../src/queues/contract/names.ts'
import { Conductor } from '../../src/conductor.ts'
import { waitFor } from '../../test/support/wait-for.ts'
import { AgentFleet } from '../agent-fleet.ts'
import { queueIdle, type BenchContext } from '../bench-context.ts'
import { RecordingTransport } from '../recording-transport.ts'
import { memoryOfKeys, usedMemory } from '../redis-memory.ts'
import { CountedPrisma } from '../statement-counter.ts'
import { runPacedPhase } from './paced-phase.ts'

export interface FlushTiming {
  rows: number
  /** From the transaction's start to its commit. */
  ms: number
}

export interface ConductorFigures {
  accepted: number
  stale: number
  /** Rows the flushes wrote. */
  flushed: number
  flushes: FlushTiming[]
  redis: {
    /** The entity's buffer and cache hashes once every key is cached. */
    entityBytes: number
    keys: number
    /** used_memory across the phase: the whole server's, so other users of Redis add noise. */
    usedMemoryGrowth: number
  }
}

/** The real path: the same agents enqueue one write-batch per report; the conductor coalesces and flushes. */
export function runConductorPhase(context: BenchContext) {
  const { options, config, db, hostPrefix, redis, keys } = context
  return runPacedPhase<ConductorFigures>(context, 'conductor', async (tracker) => {
    const counted = new CountedPrisma(db.url)
    const flushes: FlushTiming[] = []
    const memoryBefore = await usedMemory(redis)
    const conductor = await Conductor.start({
      config,
      prisma: counted.prisma,
      log: pino({ level: 'warn' }),
      onFlushCommitted: (commit) => {
        flushes.push({ rows: commit.rows.length, ms: commit.committedAt - commit.startedAt })
        for (const row of commit.rows) tracker.durable(row.key, row.version, commit.committedAt)
      },
    })
    const client = new ConductorClient({ connection: redis, prefix: config.CONDUCTOR_PREFIX, readTimeoutMs: config.READ_TIMEOUT_MS })
    const writeQueue = new Queue(WRITE_QUEUE, { connection: redis, prefix: config.CONDUCTOR_PREFIX })
    const fleet = new AgentFleet({
      hostPrefix,
      agents: options.agents,
      devices: options.devices,
      transport: new RecordingTransport(client, tracker),
      log: context.log,
    })
    let statsAtStart = await conductor.buffer.stats('usage')
    let lastAccepted = statsAtStart.accepted
    return {
      counted,
      fleet,
      settle: async () => {
        await waitFor(async () => (await queueIdle(writeQueue)) && (await conductor.buffer.unflushedCount('usage')) === 0, 'every write to be flushed', 600_000)
      },
      beginMeasuring: async () => {
        flushes.length = 0
        statsAtStart = await conductor.buffer.stats('usage')
        lastAccepted = statsAtStart.accepted
      },
      sample: async () => {
        const stats = await conductor.buffer.stats('usage')
        const waiting = await writeQueue.getWaitingCount()
        const sample = { 'accepted/s': stats.accepted - lastAccepted, 'jobs waiting': waiting, pending: stats.pending + stats.flushing }
        lastAccepted = stats.accepted
        return sample
      },
      finish: async () => {
        const stats = await conductor.buffer.stats('usage')
        const entityBytes = await memoryOfKeys(
          redis,
          conductor.buffer
            .allKeys('usage')
            .flatMap((keys) => [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues, keys.cacheVersions, keys.cacheValues]),
        )
        const usedMemoryGrowth = (await usedMemory(redis)) - memoryBefore
        await conductor.close()
        await Promise.all([client.close(), writeQueue.close()])
        await counted.close()
        return {
          accepted: stats.accepted - statsAtStart.accepted,
          stale: stats.stale - statsAtStart.stale,
          flushed: stats.flushed - statsAtStart.flushed,
          flushes,
          redis: { entityBytes, keys: keys.length, usedMemoryGrowth },
        }
      },
    }
  })
}
