// `npx tsx bench/bullmq-options.ts [jobs] [variant]`: BullMQ's own cost per job, a no-op worker draining 8-write batches under
// option variants: CPU µs per job of this process and Redis µs per job (whatever else Redis serves counts too).
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, Worker, type WorkerOptions } from 'bullmq'
import { Redis } from 'ioredis'

const jobs = Number(process.argv[2] ?? 8000)
const variants: Record<string, Partial<WorkerOptions>> = {
  'conductor (c8, keep 1000)': { concurrency: 8, removeOnComplete: { age: 3600, count: 1000 } },
  c32: { concurrency: 32, removeOnComplete: { age: 3600, count: 1000 } },
  'removeOnComplete true': { concurrency: 8, removeOnComplete: { count: 0 } },
  'skipLockRenewal+skipStalledCheck': { concurrency: 8, removeOnComplete: { age: 3600, count: 1000 }, skipLockRenewal: true, skipStalledCheck: true },
  // The first variant also warms the process up (JIT): the conductor's options again, last, show how much.
  'conductor again': { concurrency: 8, removeOnComplete: { age: 3600, count: 1000 } },
}
const only = process.argv[3]
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null })
const redisCpu = async () => {
  const i = await redis.info('cpu')
  return Number(/used_cpu_user:([\d.]+)/.exec(i)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(i)![1])
}
const value = { accelerators_in_use: 2, utilization_percent: 48.3, memory_used_mib: 1300, power_w: 45.1, temperature_c: 43.5 }
for (const [name, options] of Object.entries(variants)) {
  if (only && !name.startsWith(only)) continue
  const prefix = `noop-${randomBytes(3).toString('hex')}`
  const queue = new Queue('w', { connection: redis, prefix })
  await queue.pause()
  const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null })
  const worker = new Worker('w', async () => ({ accepted: 8, stale: 0 }), { connection, prefix, ...options })
  const run = async (n: number, round: number) => {
    for (let s = 0; s < n; s += 500) {
      await queue.addBulk(
        Array.from({ length: Math.min(500, n - s) }, (_, j) => ({
          name: 'write-batch',
          data: { writes: Array.from({ length: 8 }, (_, d) => ({ entity: 'usage', key: `k${j}-${d}`, version: round * 1e6 + s + j, value })) },
          opts: { attempts: 5, backoff: { type: 'exponential', delay: 200 } },
        })),
      )
    }
    const c0 = process.cpuUsage()
    const r0 = await redisCpu()
    const t0 = performance.now()
    await queue.resume()
    for (;;) {
      const c = await queue.getJobCounts('waiting', 'active')
      if (c.waiting! + c.active! === 0) break
      await sleep(50)
    }
    await queue.pause()
    const t = (performance.now() - t0) / 1000
    const c = process.cpuUsage(c0)
    const r = (await redisCpu()) - r0
    return { jobsPerS: Math.round(n / t), cpuUsPerJob: +((c.user + c.system) / n).toFixed(1), redisUsPerJob: +((r * 1e6) / n).toFixed(1) }
  }
  await run(2000, 0)
  console.log(JSON.stringify({ variant: name, ...(await run(jobs, 1)), load: (await import('node:os')).loadavg()[0] }))
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  connection.disconnect()
}
redis.disconnect()
