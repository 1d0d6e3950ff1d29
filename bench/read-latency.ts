// `npx tsx bench/read-latency.ts [seconds] [concurrency]`: the read queue's round trip (ConductorClient.call, the miss
// path of the HTTP reads), the Conductor in this process: at its maximum (closed loop) and at a fixed rate of half of it,
// of keys the cache holds; with the CPU µs per read of this process and of Redis, and how long the event loop was held
// up (p99 and max). DATABASE_URL defaults to the bench's database.
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { standaloneConfig } from './standalone-config.ts'
import { Conductor } from '../src/conductor.ts'
import { ConductorClient } from '../src/queues/client/conductor-client.ts'
import { closedLoop, type LoadResult } from './closed-loop.ts'
import { pacedLoop } from './paced-loop.ts'

const seconds = Number(process.argv[2] ?? 5)
const concurrency = Number(process.argv[3] ?? 32)
const prefix = `reads-${randomBytes(3).toString('hex')}`
const config = standaloneConfig(prefix)
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
const conductor = await Conductor.start({ config, log: pino({ level: 'warn' }) })
const client = new ConductorClient({ connection: redis, prefix, readTimeoutMs: config.READ_TIMEOUT_MS })
const keys = Array.from({ length: 1000 }, (_, index) => `${prefix}-k${index}`)
await client.castBatch(keys.map((key, index) => ({ entity: 'usage', key, version: 1, value: { index } })))
const read = async (index: number) => {
  const result = await client.call({ entity: 'usage', key: keys[index % keys.length]! })
  if (!result.found) throw new Error(`${keys[index % keys.length]} not found`)
}
for (let attempt = 0; ; attempt++) {
  try {
    await read(0)
    break
  } catch (error) {
    if (attempt > 100) throw error
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
await closedLoop(1, concurrency, read) // warm-up
const redisCpu = async () => {
  const info = await redis.info('cpu')
  return Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1])
}
const measured = async (what: string, load: () => Promise<LoadResult>) => {
  const cpu0 = process.cpuUsage()
  const redis0 = await redisCpu()
  // How long this process's event loop was held up: a read's tail that the loop's delay does not explain waited elsewhere.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const result = await load()
  loopDelay.disable()
  const cpu = process.cpuUsage(cpu0)
  const redisS = (await redisCpu()) - redis0
  const { p50, p99 } = result.latency
  console.log(
    JSON.stringify({
      what,
      readsPerS: Math.round(result.perSecond),
      p50Ms: +p50.toFixed(2),
      p99Ms: +p99.toFixed(2),
      cpuUsPerRead: +((cpu.user + cpu.system) / result.operations).toFixed(1),
      redisUsPerRead: +((redisS * 1e6) / result.operations).toFixed(1),
      eventLoopDelayP99Ms: +(loopDelay.percentile(99) / 1e6).toFixed(2),
      eventLoopDelayMaxMs: +(loopDelay.max / 1e6).toFixed(2),
      load: loadavg()[0],
    }),
  )
  return result
}
const maximum = await measured(`closed loop, ${concurrency} in flight`, () => closedLoop(seconds, concurrency, read))
const rate = Math.max(1, Math.round(maximum.perSecond / 2))
await measured(`fixed rate ${rate}/s (50%)`, () => pacedLoop(seconds, rate, read))
await client.close()
await conductor.close()
const left = await redis.keys(`${prefix}:*`)
for (let index = 0; index < left.length; index += 1000) await redis.del(...left.slice(index, index + 1000))
redis.disconnect()
process.exit(0)
