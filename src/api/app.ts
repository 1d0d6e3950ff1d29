import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { Queue } from 'bullmq'
import type { EntityCache } from '../cache/entity-cache.ts'
import { openCache } from '../cache/open-cache.ts'
import type { WriteBuffer } from '../cache/write-buffer.ts'
import type { Config } from '../config.ts'
import { queuePrefix, type RedisConnection } from '../redis-connection.ts'
import { ConductorMetrics } from '../metrics/conductor-metrics.ts'
import { ConductorClient } from '../queues/conductor-client.ts'
import { COMMAND_QUEUE, FLUSH_QUEUE, INVENTORY_QUEUE, READ_QUEUE, WRITE_QUEUE } from '../queues/names.ts'
import auth from './plugins/auth.ts'
import errorHandler from './plugins/error-handler.ts'
import httpMetrics from './plugins/http-metrics.ts'
import openapi from './plugins/openapi.ts'
import rateLimits from './plugins/rate-limit.ts'
import adminRoutes from './routes/admin.ts'
import conductorRoutes from './routes/conductor.ts'
import docsRoutes from './routes/docs.ts'
import healthRoutes from './routes/health.ts'
import v2Routes from './routes/v2/index.ts'
import { ViewReader } from './view-reader.ts'

export interface AppDependencies {
  config: Config
  /** The API's own Redis connection or cluster (maxRetriesPerRequest: null): queues, caches and rate limits. */
  connection: RedisConnection
  log: FastifyBaseLogger
  /** Shared with the workers when both run in one process; the app makes its own otherwise. */
  metrics?: ConductorMetrics
}

/** What the routes reach the conductor through: its queues and its Redis caches, never PostgreSQL. */
export interface ConductorAccess {
  client: ConductorClient
  cache: EntityCache
  buffer: WriteBuffer
  views: ViewReader
  /** Every conductor queue, for Bull Board, the queue-depth metrics and readiness. */
  queues: Queue[]
  redis: RedisConnection
  metrics: ConductorMetrics
  /** Retry-After of a write refused by back-pressure: about one flush interval, in seconds. */
  retryAfterSeconds: number
}

declare module 'fastify' {
  interface FastifyInstance {
    conductor: ConductorAccess
  }
}

/** Builds the HTTP API; `server.ts` listens. It reaches the conductor through its queues and cache only. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, connection } = deps
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  const prefix = queuePrefix(config)
  const metrics = deps.metrics ?? new ConductorMetrics()
  const caches = openCache(connection, config)
  const client = new ConductorClient({ connection, prefix, readTimeoutMs: config.READ_TIMEOUT_MS })
  const queues = [WRITE_QUEUE, READ_QUEUE, INVENTORY_QUEUE, COMMAND_QUEUE, FLUSH_QUEUE].map((name) => new Queue(name, { connection, prefix }))
  metrics.watchRedis(queues, caches.buffer)
  app.decorate('conductor', {
    client,
    cache: caches.cache,
    buffer: caches.buffer,
    views: new ViewReader(caches.views, metrics),
    queues,
    redis: connection,
    metrics,
    retryAfterSeconds: Math.ceil(Math.max(config.FLUSH_INTERVAL_MS, 1000) / 1000),
  })
  app.addHook('onClose', async () => {
    await client.close()
    await Promise.all(queues.map((queue) => queue.close()))
  })

  await app.register(errorHandler)
  await app.register(auth, { tokens: config.API_TOKENS })
  await app.register(rateLimits, { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS })
  await app.register(httpMetrics, { metrics })
  await app.register(openapi)
  await app.register(healthRoutes)
  await app.register(conductorRoutes, { prefix: '/conductor' })
  await app.register(v2Routes, { prefix: '/v2' })
  await app.register(adminRoutes, { prefix: '/admin', cookieSecret: config.API_COOKIE_SECRET })
  await app.register(docsRoutes)
  return app
}
