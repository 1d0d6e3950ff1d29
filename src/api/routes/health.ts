import type { FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ConductorTimeoutError } from '../../queues/client/conductor-timeout-error.ts'

/** How long readiness waits for each check: a probe must answer even while Redis does not. */
const CHECK_TIMEOUT_MS = 3000
/**
 * How long one readiness answer serves every probe that asks. Each answer costs a command job and a
 * SELECT 1: unshared, 1,853 probes/s pushed the commands' latency from 5 to 60 ms.
 */
const READINESS_TTL_MS = 1000

const readinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.object({
    redis: z.string(),
    postgres: z.string().describe('a worker ran SELECT 1 through the command queue'),
    flush: z.string().describe('ok, or the shards whose scheduled flush job has not run for several intervals'),
    workers: z.record(z.string(), z.union([z.int(), z.string()])).describe('workers listening on each queue'),
    durability: z.string().describe('DURABILITY and what a Redis host crash can lose of the acknowledged writes'),
    placement: z
      .string()
      .describe(
        'whether Placement answers the conductor\'s token ("ok (placement <max microversion>)", "not configured", or what failed); never makes the conductor unready: inventory is kept and synced once Placement is back',
      ),
  }),
})

/** Liveness, and readiness of the whole path: Redis, a worker, and PostgreSQL behind it; Placement is reported, not required. */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const open = { rateLimit: false } as const
  app.get('/healthz', { config: open, schema: { security: [], response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }))

  // Concurrent probes share the answer in progress; a settled one serves READINESS_TTL_MS.
  let shared: { answer: Promise<Readiness>; expiresAt: number } | undefined
  const readiness = (): Promise<Readiness> => {
    if (!shared || Date.now() >= shared.expiresAt) {
      const entry = (shared = { answer: checkReadiness(app), expiresAt: Number.POSITIVE_INFINITY })
      entry.answer = entry.answer.finally(() => (entry.expiresAt = Date.now() + READINESS_TTL_MS))
    }
    return shared.answer
  }

  app.get('/readyz', { config: open, schema: { security: [], response: { 200: readinessSchema, 503: readinessSchema } } }, async (request, reply) => {
    const answer = await readiness()
    if (answer.status !== 'ready') request.log.warn(answer.checks, 'not ready')
    return reply.code(answer.status === 'ready' ? 200 : 503).send(answer)
  })

  app.get('/metrics', { config: open, schema: { security: [], produces: ['text/plain'] } }, async (_request, reply) => {
    const { registry } = app.conductor.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

type Readiness = z.infer<typeof readinessSchema>

async function checkReadiness(app: FastifyInstance): Promise<Readiness> {
  const { client, queues, redis, durability: report, placement: placementClient } = app.conductor
  const durability = report ? `${report.mode}: ${report.lossWindow}` : 'unchecked'
  const [redisCheck, postgres, flush, placement, ...counts] = await Promise.all([
    check(redis.ping().then(() => 'ok')),
    check(client.command('conductor.ping', {}, CHECK_TIMEOUT_MS).then(({ database }) => database)),
    check(app.conductor.staleFlushes().then((stale) => (stale.length === 0 ? 'ok' : `flush not running: ${stale.join(', ')}`))),
    placementClient ? check(placementClient.probe()) : 'not configured',
    ...queues.map((queue) => check(queue.getWorkersCount().then((count) => (count > 0 ? count : 'no worker')))),
  ])
  const workers = Object.fromEntries(queues.map((queue, index) => [queue.name, counts[index]!]))
  const ready = redisCheck === 'ok' && postgres === 'ok' && flush === 'ok' && Object.values(workers).every((count) => typeof count === 'number')
  return { status: ready ? 'ready' : 'not ready', checks: { redis: redisCheck, postgres, flush, workers, placement, durability } }
}

const noAnswer = (timeoutMs: number) => `no answer within ${timeoutMs} ms`

/**
 * The check's answer, or what went wrong, within CHECK_TIMEOUT_MS. A probe with a deadline of its own (the
 * ping command's) says the same as this one when that deadline passes: the two end together, either first.
 */
async function check<T>(probe: Promise<T>): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(noAnswer(CHECK_TIMEOUT_MS)), CHECK_TIMEOUT_MS)))
  try {
    return await Promise.race([probe, timeout])
  } catch (error) {
    if (error instanceof ConductorTimeoutError) return noAnswer(error.timeoutMs)
    return error instanceof Error ? error.message : String(error)
  } finally {
    clearTimeout(timer)
  }
}

export default healthRoutes
