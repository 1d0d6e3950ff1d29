// The conductor process: workers, flush scheduler and HTTP API. `npm start` runs it after src/preflight.ts.
import { pino } from 'pino'
import { buildApp } from './api/app.ts'
import { REDACTED_LOG_PATHS } from './api/plugins/auth.ts'
import { loadConfig } from './config.ts'
import { ConductorMetrics } from './metrics/conductor-metrics.ts'
import { connectRedis } from './redis-connection.ts'
import { checkPostgres, checkRedis } from './services.ts'
import { Conductor } from './workers/conductor.ts'

let config
try {
  config = loadConfig()
  await checkRedis(config)
  await checkPostgres(config.DATABASE_URL)
} catch (error) {
  console.error(`cannot start the conductor: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

const log = pino({ level: config.LOG_LEVEL, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } })
const metrics = new ConductorMetrics()
const conductor = await Conductor.start({ config, log, metrics })
const apiConnection = connectRedis(config, { maxRetriesPerRequest: null })
const app = await buildApp({ config, connection: apiConnection, log, metrics })
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
    await apiConnection.quit()
    process.exit(0)
  } catch (error) {
    log.error({ err: error }, 'shutdown failed')
    process.exit(1)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
