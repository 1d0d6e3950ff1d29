import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

/** How long readiness waits for each check: a probe must answer even while Redis does not. */
const CHECK_TIMEOUT_MS = 3000

const readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.object({
    redis: z.string(),
    postgres: z.string().describe('a worker ran SELECT 1 through the command queue'),
    workers: z.record(z.string(), z.union([z.int(), z.string()])).describe('workers listening on each queue'),
  }),
})

/** Liveness, and readiness of the whole path: Redis, a worker, and PostgreSQL behind it. */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const open = { rateLimit: false } as const
  app.get('/healthz', { config: open, schema: { security: [], response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', { config: open, schema: { security: [], response: { 200: readiness, 503: readiness } } }, async (request, reply) => {
    const { client, queues, redis } = app.conductor
    const [redisCheck, postgres, ...counts] = await Promise.all([
      check(redis.ping().then(() => 'ok')),
      check(client.command('conductor.ping', {}, CHECK_TIMEOUT_MS).then(({ database }) => database)),
      ...queues.map((queue) => check(queue.getWorkersCount().then((count) => (count > 0 ? count : 'no worker')))),
    ])
    const workers = Object.fromEntries(queues.map((queue, index) => [queue.name, counts[index]!]))
    const ready = redisCheck === 'ok' && postgres === 'ok' && Object.values(workers).every((count) => typeof count === 'number')
    if (!ready) request.log.warn({ redis: redisCheck, postgres, workers }, 'not ready')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { redis: redisCheck, postgres, workers } })
  })

  app.get('/metrics', { config: open, schema: { security: [], produces: ['text/plain'] } }, async (_request, reply) => {
    const { registry } = app.conductor.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

/** The check's answer, or what went wrong, within CHECK_TIMEOUT_MS. */
async function check<T>(probe: Promise<T>): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS)))
  try {
    return await Promise.race([probe, timeout])
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    clearTimeout(timer)
  }
}

export default healthRoutes
