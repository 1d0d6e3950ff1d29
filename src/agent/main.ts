// `npm run agent -- --host NAME [--devices N] [--types FPGA,GPU] [--seed N]`: an agent with the dummy driver.
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { loadConfig } from '../config.ts'
import { DummyDriver } from '../drivers/dummy/dummy-driver.ts'
import { ConductorClient } from '../queues/conductor-client.ts'
import { deviceTypes, type DeviceType } from '../queues/inventory.ts'
import { connectRedis, queuePrefix } from '../redis-connection.ts'
import { checkRedis } from '../services.ts'
import { Agent } from './agent.ts'

const usage = 'usage: npm run agent -- --host NAME [--devices N] [--types FPGA,GPU,...] [--seed N]'
let args
try {
  args = parseArgs({
    options: { host: { type: 'string' }, devices: { type: 'string', default: '1' }, types: { type: 'string', default: 'FPGA' }, seed: { type: 'string', default: '1' } },
  }).values
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
  process.exit(2)
}
const types = args.types.split(',')
const devices = Number(args.devices)
const seed = Number(args.seed)
const unknownType = types.find((type) => !deviceTypes.includes(type as DeviceType))
if (!args.host || unknownType || !Number.isInteger(devices) || devices < 0 || !Number.isInteger(seed)) {
  console.error(`${unknownType ? `unknown device type ${unknownType}; known: ${deviceTypes.join(', ')}\n` : ''}${usage}`)
  process.exit(2)
}

const config = loadConfig()
try {
  await checkRedis(config)
} catch (error) {
  console.error(`cannot start the agent: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
const log = pino({ level: config.LOG_LEVEL })
const connection = connectRedis(config, { maxRetriesPerRequest: null })
const client = new ConductorClient({ connection, prefix: queuePrefix(config), readTimeoutMs: config.READ_TIMEOUT_MS })
const agent = new Agent({
  hostname: args.host,
  driver: new DummyDriver({ hostname: args.host, devices, types: types as DeviceType[], seed }),
  client,
  reportIntervalMs: config.AGENT_REPORT_INTERVAL_S * 1000,
  usageIntervalMs: config.AGENT_USAGE_INTERVAL_S * 1000,
  log,
})
await agent.start()
log.info({ hostname: args.host, devices, types }, 'agent started')

async function stop(): Promise<void> {
  await agent.stop()
  await client.close()
  await connection.quit()
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
