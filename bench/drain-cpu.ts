// `npx tsx bench/drain-cpu.ts [jobs] [noop]`: CPU µs per write-batch job of one drain, the Conductor (or a no-op worker) in
// this process, after a warm-up drain; DATABASE_URL defaults to the bench's database. Redis µs per job counts whatever else Redis serves.
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { commandStats, perJob } from './redis-commands.ts'
import { standaloneConfig } from './standalone-config.ts'
import { Conductor, keepCompleted } from '../src/conductor.ts'
import { WRITE_BATCH_JOB, WRITE_QUEUE } from '../src/queues/contract/names.ts'

const jobs = Number(process.argv[2] ?? 20000)
const noop = process.argv[3] === 'noop'
const prefix = `drain-${randomBytes(3).toString('hex')}`
const config = standaloneConfig(prefix)
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
const queue = new Queue(WRITE_QUEUE, { connection: redis, prefix })
await queue.pause()
const metrics = (i: number) => ({ accelerators_in_use: i % 4, utilization_percent: 48.3, memory_used_mib: 1300, power_w: 45.1, temperature_c: 43.5 })
const base = Date.now()
// 1,000 hosts × 8 deployables, each job one host's report.
async function fill(n: number, round: number) {
  for (let start = 0; start < n; start += 500) {
    await queue.addBulk(
      Array.from({ length: Math.min(500, n - start) }, (_, j) => ({
        name: WRITE_BATCH_JOB,
        data: {
          writes: Array.from({ length: 8 }, (_, d) => ({
            entity: 'usage',
            key: `${prefix}-h${(start + j) % 1000}-d${d}`,
            version: base + round * 100000 + start + j,
            value: metrics(j),
          })),
        },
        opts: { attempts: 5, backoff: { type: 'exponential', delay: 200 } },
      })),
    )
  }
}
let conductor: Conductor | undefined
let worker: Worker | undefined
if (noop)
  worker = new Worker(WRITE_QUEUE, async () => undefined, {
    connection: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: config.WRITE_CONCURRENCY,
    removeOnComplete: keepCompleted(config),
  })
else conductor = await Conductor.start({ config, log: pino({ level: 'warn' }) })
async function drainAll() {
  await queue.resume()
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
    if (Object.values(c).reduce((a, b) => a + b, 0) === 0) break
    await sleep(50)
  }
  await queue.pause()
}
const redisCpu = async () => {
  const i = await redis.info('cpu')
  return Number(/used_cpu_user:([\d.]+)/.exec(i)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(i)![1])
}
/** With CPU_PROFILE=<file>: a V8 CPU profile of the measured drain alone (not the fills), for Chrome DevTools or speedscope. */
async function startProfile() {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))))
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 200 })
  await post('Profiler.start')
  return {
    async stop(file: string) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown }
      await writeFile(file, JSON.stringify(profile))
      session.disconnect()
    },
  }
}
await fill(Math.min(jobs, 5000), 0)
await drainAll() // warm-up
await fill(jobs, 1)
const profiler = process.env.CPU_PROFILE ? await startProfile() : undefined
const commandsBefore = await commandStats(redis)
const cpu0 = process.cpuUsage()
const r0 = await redisCpu()
const t0 = performance.now()
await drainAll()
const t = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
await profiler?.stop(process.env.CPU_PROFILE!)
const r = (await redisCpu()) - r0
const commandsPerJob = perJob(commandsBefore, await commandStats(redis), jobs)
console.log(
  JSON.stringify({
    mode: noop ? 'noop' : 'conductor',
    jobs,
    jobsPerS: Math.round(jobs / t),
    cpuUsPerJob: +((cpu.user + cpu.system) / jobs).toFixed(1),
    redisUsPerJob: +((r * 1e6) / jobs).toFixed(1),
    load: (await import('node:os')).loadavg()[0],
  }),
)
console.log(JSON.stringify(commandsPerJob))
await conductor?.close()
await worker?.close()
await queue.obliterate({ force: true }).catch(() => {})
await queue.close()
const keys = await redis.keys(`${prefix}:*`)
for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000))
redis.disconnect()
process.exit(0)
