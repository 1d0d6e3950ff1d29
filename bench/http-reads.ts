// `npx tsx bench/http-reads.ts [seconds] [connections]`: the HTTP API's cached reads at their maximum (autocannon, closed loop, as
// the bench's read phase) against a src/server.ts child, of 1,000 keys primed in the cache, after a 3 s warm-up; the requests/s
// and latency. DATABASE_URL defaults to the bench's database; the keys are removed at the end.
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import autocannon from 'autocannon'
import { standaloneConfig } from './standalone-config.ts'
import { openStores } from '../src/conductor.ts'
import { connectRedis } from '../src/redis/connection.ts'
import { ServerProcess } from './server-process.ts'

const seconds = Number(process.argv[2] ?? 10)
const connections = Number(process.argv[3] ?? 8)
const prefix = `http-reads-${randomBytes(3).toString('hex')}`
const config = standaloneConfig(prefix)
const redis = connectRedis(config)
const keys = Array.from({ length: 1000 }, (_, index) => `${prefix}-k${index}`)
await openStores(redis, config).cache.prime(
  'usage',
  keys.map((key, index) => ({ key, version: 1, valueJson: JSON.stringify({ accelerators_in_use: index % 4, utilization_percent: 48.3 }) })),
)
const server = await ServerProcess.start({ REDIS_URL: config.REDIS_URL, DATABASE_URL: config.DATABASE_URL, CONDUCTOR_PREFIX: prefix, LOG_LEVEL: 'error' })
let next = 0
const load = (duration: number) =>
  autocannon({
    url: server.url,
    headers: server.headers,
    connections,
    duration,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/conductor/entities/usage/${keys[next++ % keys.length]}` }) }],
  })
try {
  await load(3)
  const result = await load(seconds)
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx responses, ${result.errors} errors`)
  console.log(
    JSON.stringify({
      requestsPerS: Math.round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      connections,
      load: loadavg()[0],
    }),
  )
} finally {
  await server.stop()
  const left = await redis.keys(`${prefix}*`)
  if (left.length > 0) await redis.del(...left)
  redis.disconnect()
}
