import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { inject } from 'vitest'
import { openStores } from '../../../src/conductor.ts'
import { WRITE_QUEUE } from '../../../src/queues/contract/names.ts'
import { waitFor } from '../../support/wait-for.ts'
import { Agents, type AgentOptions } from './agents.ts'
import { reportFigures, type Figures } from './figures.ts'
import { ConductorProcess } from './conductor-process.ts'
import { PrivatePostgres } from './private-postgres.ts'
import { PrivateRedis, type PrivateRedisOptions } from './private-redis.ts'
import { HangProxy } from './hang-proxy.ts'
import { storedRows } from './stored-rows.ts'

export type ConductorSettings = Record<string, string>

export interface RigOptions {
  /** The conductors reach PostgreSQL and Redis through a HangProxy each, which the test can hang (the rig itself goes direct). */
  hangable?: boolean
  /** How the private redis-server runs (appendfsync, a slow disk). */
  redis?: PrivateRedisOptions
}

/**
 * A test file's private Redis and PostgreSQL, the conductors and agents it runs on them, and what it
 * needs to check the outcome. `close` removes all of it, also after a failure.
 */
export async function startRig(settings: ConductorSettings, options: RigOptions = {}) {
  const [postgres, redis] = await Promise.all([PrivatePostgres.fromTemplate(inject('postgresTemplate')), PrivateRedis.start(options.redis)])
  const [postgresProxy, redisProxy] = options.hangable ? await Promise.all([HangProxy.start(postgres.port), HangProxy.start(redis.port)]) : []
  const prefix = `f-${randomBytes(4).toString('hex')}`
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null })
  // Reconnects by itself while the private Redis restarts.
  connection.on('error', () => {})
  // Only read (stats, counts): the limit matters to accepting writes alone.
  const { buffer } = openStores(connection, { CONDUCTOR_PREFIX: prefix, PENDING_MAX_KEYS: 1, FLUSH_SHARDS: 1, CACHE_MAX_KEYS: 1, WRITE_VALUE_MAX_BYTES: 2 })
  const writeQueue = new Queue(WRITE_QUEUE, { connection, prefix })
  const conductors: ConductorProcess[] = []
  const agents: Agents[] = []
  // The intake endpoints need a token; the rig's HTTP writers are agents.
  const agentToken = randomBytes(24).toString('hex')
  const adminToken = randomBytes(24).toString('hex')
  const env = {
    REDIS_URL: redisProxy ? `redis://127.0.0.1:${redisProxy.port}` : redis.url,
    DATABASE_URL: postgresProxy ? postgres.url.replace(`:${postgres.port}/`, `:${postgresProxy.port}/`) : postgres.url,
    CONDUCTOR_PREFIX: prefix,
    LOG_LEVEL: 'info',
    API_TOKENS: `${agentToken}:agent,${adminToken}:admin`,
    // The ledger reads the writes of every finished job: they keep their data, whatever its size.
    JOB_KEPT_DATA_MAX_BYTES: String(16 * 1024 * 1024),
    ...settings,
  }

  return {
    postgres,
    /** With `hangable`: what stands between the conductors and PostgreSQL, and Redis. */
    postgresProxy,
    redisProxy,
    env,
    /** Headers of an HTTP request from an agent. */
    agentHeaders: { authorization: `Bearer ${agentToken}` },
    /** Headers of an HTTP request from an operator (admin). */
    adminHeaders: { authorization: `Bearer ${adminToken}` },
    redis,
    prefix,
    buffer,
    writeQueue,
    startConductor(extra: ConductorSettings = {}): ConductorProcess {
      const conductor = ConductorProcess.start({ ...env, ...extra })
      conductors.push(conductor)
      return conductor
    },
    startAgents(options: Omit<AgentOptions, 'redisUrl' | 'prefix'>): Agents {
      const started = new Agents({ redisUrl: redis.url, prefix, ...options })
      agents.push(started)
      return started
    },
    stored: () => storedRows(postgres.url, prefix),
    /** The rig's own connection to the private Redis (direct, never through a proxy). */
    redisConnection: connection,
    /** A section of the private Redis's INFO. */
    redisInfo: (section: string) => connection.info(section),
    /** Compares PostgreSQL with what the agents were told, and reports the test's figures with the outcome. */
    async verify(agents: Agents, test: string, figures: Omit<Figures, 'keysChecked' | 'lost' | 'regressed'> = {}) {
      const ledger = await agents.ledger()
      const check = ledger.verify(await storedRows(postgres.url, prefix))
      reportFigures(test, { ...figures, keysChecked: check.keys, lost: check.lost, regressed: check.regressed })
      const failures = JSON.stringify(Object.fromEntries(ledger.failures))
      console.log(`[faults] ${test}: ${agents.written} writes in ${ledger.jobs} jobs; failed jobs by reason: ${failures}; ${JSON.stringify(check)}`)
      return { ledger, check }
    },
    async waitForFlushed(timeoutMs: number): Promise<void> {
      await waitFor(async () => (await buffer.unflushedCount('usage')) === 0, 'every accepted write to be flushed', timeoutMs)
    },
    async close(): Promise<void> {
      await Promise.all(conductors.filter((conductor) => conductor.running).map((conductor) => conductor.kill()))
      await Promise.all(agents.map((started) => started.close()))
      await writeQueue.close()
      connection.disconnect()
      await Promise.all([postgresProxy?.close(), redisProxy?.close()])
      await Promise.all([postgres.destroy(), redis.destroy()])
    },
  }
}

export type Rig = Awaited<ReturnType<typeof startRig>>
