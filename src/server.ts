// The conductor process: HTTP API, workers and flush scheduler. `npm start` runs it after src/preflight.ts.
import { pino } from 'pino'
import { REDACTED_LOG_PATHS } from './api/plugins/auth.ts'
import { loadConfig, type Config } from './config.ts'
import { stopOnSignals } from './graceful-stop.ts'
import { ConductorMetrics } from './metrics/conductor-metrics.ts'
import { connectRedis } from './redis/connection.ts'
import { checkDurability, type DurabilityReport } from './redis/durability.ts'
import { checkPostgres, checkRedis } from './services.ts'
import { buildApi, Conductor } from './conductor.ts'

function exitWith(message: string): never {
  console.error(`cannot start the conductor: ${message}`)
  process.exit(1)
}

let config: Config
let durability: DurabilityReport
try {
  config = loadConfig()
  await checkRedis(config)
  await checkPostgres(config.DATABASE_URL)
  const probe = connectRedis(config, { maxRetriesPerRequest: 1 })
  try {
    durability = await checkDurability(probe, config.DURABILITY)
  } finally {
    probe.disconnect()
  }
} catch (error) {
  exitWith(error instanceof Error ? error.message : String(error))
}

const log = pino({ level: config.LOG_LEVEL, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } })
const metrics = new ConductorMetrics()
log.info({ durability }, 'Redis durability checked')
// Requests never wait on a hung Redis past REDIS_COMMAND_TIMEOUT_MS: they answer 503. Awaiting results is a blocking read, apart.
const apiConnection = connectRedis(config, { maxRetriesPerRequest: null, commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS })
const eventsConnection = connectRedis(config, { maxRetriesPerRequest: null })
const app = await buildApi({ config, connection: apiConnection, eventsConnection, log, metrics, durability })
// The port first: a conductor that cannot serve its API must not take jobs.
try {
  await app.listen({ host: config.HOST, port: config.PORT })
} catch (error) {
  const code = (error as { code?: string }).code
  if (code === 'EADDRINUSE') exitWith(`${config.HOST}:${config.PORT} is already in use (another conductor?); stop it or set PORT`)
  if (code === 'EADDRNOTAVAIL') exitWith(`HOST=${config.HOST} is not an address of this machine; set HOST`)
  throw error
}
// A signal while the workers start stops them once they have.
const starting = Conductor.start({ config, log, metrics })
stopOnSignals(log, 'conductor', async () => {
  // Whatever Redis and PostgreSQL do, the process ends: what is not flushed yet stays in Redis for the next conductor.
  setTimeout(() => {
    log.error({ shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish within SHUTDOWN_TIMEOUT_MS; exiting, pending writes stay in Redis')
    process.exit(1)
  }, config.SHUTDOWN_TIMEOUT_MS).unref()
  await app.close()
  await (await starting).close()
  await Promise.all([apiConnection.quit(), eventsConnection.quit()])
})
try {
  await starting
} catch (error) {
  exitWith(error instanceof Error ? error.message : String(error))
}
