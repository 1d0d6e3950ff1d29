// The conductor process: workers, flush scheduler and HTTP API. `npm start` runs it after src/preflight.ts.
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { buildApp } from './api/app.ts'
import { openCache } from './cache/open-cache.ts'
import { loadConfig } from './config.ts'
import { ConductorClient } from './queues/conductor-client.ts'
import { checkPostgres, checkRedis } from './services.ts'
import { Conductor } from './workers/conductor.ts'

let config
try {
  config = loadConfig()
  await checkRedis(config.REDIS_URL)
  await checkPostgres(config.DATABASE_URL)
} catch (error) {
  console.error(`cannot start the conductor: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

const log = pino({ level: config.LOG_LEVEL })
const conductor = await Conductor.start({ config, log })
const apiConnection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
const { buffer, cache } = openCache(apiConnection, config)
const client = new ConductorClient({ connection: apiConnection, prefix: config.CONDUCTOR_PREFIX, readTimeoutMs: config.READ_TIMEOUT_MS })
const app = await buildApp({
  client,
  cache,
  buffer,
  log,
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
  retryAfterSeconds: Math.ceil(Math.max(config.FLUSH_INTERVAL_MS, 1000) / 1000),
})
await app.listen({ host: config.HOST, port: config.PORT })

let stopping = false
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting without waiting for the final flush')
    process.exit(1)
  }
  stopping = true
  log.info({ signal }, 'stopping: no new jobs, final flush, then exit')
  try {
    await app.close()
    await conductor.close()
    await client.close()
    await apiConnection.quit()
    process.exit(0)
  } catch (error) {
    log.error({ err: error }, 'shutdown failed')
    process.exit(1)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
