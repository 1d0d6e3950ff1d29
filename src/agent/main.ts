// `npm run agent -- --host NAME [--devices N] [--types FPGA,GPU] [--seed N]`: an agent with the drivers AGENT_DRIVERS
// names (the dummy driver by default; --devices, --types and --seed are its options).
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { loadConfig } from '../config.ts'
import { DriverRegistry } from '../drivers/registry.ts'
import { ConductorClient, writeLimitsOf } from '../queues/client/conductor-client.ts'
import { deviceTypes, type DeviceType } from '../queues/contract/inventory.ts'
import { connectRedis, queuePrefix } from '../redis/connection.ts'
import { stopOnSignals } from '../graceful-stop.ts'
import { checkRedis, redact } from '../services.ts'
import { Agent } from './agent.ts'
import { ConductorWatch } from './conductor-watch.ts'

const usage = 'usage: npm run agent -- --host NAME [--devices N] [--types FPGA,GPU,...] [--seed N]'
function parsedArgs() {
  try {
    return parseArgs({
      options: {
        host: { type: 'string' },
        devices: { type: 'string', default: '1' },
        types: { type: 'string', default: 'FPGA' },
        seed: { type: 'string', default: '1' },
      },
    }).values
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
}
const args = parsedArgs()
const types = args.types.split(',')
const devices = Number(args.devices)
const seed = Number(args.seed)
const unknownType = types.find((type) => !deviceTypes.includes(type as DeviceType))
if (!args.host || unknownType || !Number.isInteger(devices) || devices < 0 || !Number.isInteger(seed)) {
  console.error(`${unknownType ? `unknown device type ${unknownType}; known: ${deviceTypes.join(', ')}\n` : ''}${usage}`)
  process.exit(2)
}

const config = loadConfig()
const log = pino({ level: config.LOG_LEVEL })
function loadDrivers(hostname: string) {
  try {
    return DriverRegistry.load(config.AGENT_DRIVERS, { hostname, config, log, dummy: { devices, types: types as DeviceType[], seed } })
  } catch (error) {
    console.error(`cannot start the agent: AGENT_DRIVERS: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(2)
  }
}
const driver = loadDrivers(args.host)
try {
  await checkRedis(config)
} catch (error) {
  console.error(`cannot start the agent: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
const connection = connectRedis(config, { maxRetriesPerRequest: null })
const prefix = queuePrefix(config)
const client = new ConductorClient({ connection, prefix, readTimeoutMs: config.READ_TIMEOUT_MS, writeLimits: writeLimitsOf(config) })
const agent = new Agent({
  hostname: args.host,
  driver,
  client,
  reportIntervalMs: config.AGENT_REPORT_INTERVAL_S * 1000,
  usageIntervalMs: config.AGENT_USAGE_INTERVAL_S * 1000,
  log,
})
const watch = new ConductorWatch({
  client,
  waitMs: config.AGENT_CONDUCTOR_WAIT_S * 1000,
  prefix,
  redis: config.REDIS_CLUSTER_NODES.length > 0 ? `the Redis Cluster at ${config.REDIS_CLUSTER_NODES.join(',')}` : redact(config.REDIS_URL),
  log,
})
stopOnSignals(log, 'agent', async () => {
  await watch.stop()
  await agent.stop()
  await client.close()
  await connection.quit()
})
await agent.start()
watch.start()
log.info({ hostname: args.host, drivers: config.AGENT_DRIVERS }, 'agent started')
