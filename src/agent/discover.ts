// `npm run discover -- --driver NAME [--host NAME]`: what a driver finds on this host (devices, then one usage
// sample), as JSON, without Redis or a conductor. SYSFS_ROOT and PCI_PASSTHROUGH_WHITELIST apply as for the agent.
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { loadConfig } from '../config.ts'
import { DriverRegistry } from '../drivers/registry.ts'

const usage = `usage: npm run discover -- --driver NAME[,NAME...] [--host NAME]; drivers: ${DriverRegistry.names.join(', ')}`
function parsedArgs() {
  try {
    return parseArgs({ options: { driver: { type: 'string' }, host: { type: 'string', default: hostname() } } }).values
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
}
const args = parsedArgs()
if (!args.driver) {
  console.error(usage)
  process.exit(2)
}

function loadDrivers(names: string) {
  try {
    const config = loadConfig()
    // Logs go to stderr, so stdout is the JSON alone.
    const log = pino({ level: config.LOG_LEVEL }, pino.destination(2))
    return DriverRegistry.load(names.split(','), { hostname: args.host, config, log })
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
}
const driver = loadDrivers(args.driver)
const devices = await driver.discover()
const usageSample = await driver.getStats()
console.log(JSON.stringify({ hostname: args.host, devices, usage: usageSample }, null, 2))
