import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Queue } from 'bullmq'
import type { EntityCache } from '../cache/entity-cache.ts'
import type { WriteBuffer } from '../buffer/write-buffer.ts'
import type { Config } from '../config.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { DurabilityReport } from '../redis/durability.ts'
import type { ConductorMetrics } from '../metrics/conductor-metrics.ts'
import type { ConductorClient } from '../queues/client/conductor-client.ts'
import { KEY_MAX_LENGTH } from '../queues/contract/names.ts'
import type { KeystoneTokenValidator } from '../openstack/keystone-tokens.ts'
import type { BindEventQueue } from '../openstack/bind-event-queue.ts'
import auth from './plugins/auth.ts'
import jsonBody from './plugins/json-body.ts'
import errorHandler from './plugins/error-handler.ts'
import httpMetrics from './plugins/http-metrics.ts'
import openapi from './plugins/openapi.ts'
import rateLimits from './plugins/rate-limit.ts'
import adminRoutes from './routes/admin.ts'
import conductorRoutes from './routes/conductor.ts'
import docsRoutes from './routes/docs.ts'
import healthRoutes from './routes/health.ts'
import rootRoutes from './routes/root.ts'
import v2Routes from './routes/v2/index.ts'
import { RequestLogController } from './request-log-controller.ts'
import type { ViewReader } from './view-reader.ts'
import type { HostBinding } from './host-binding.ts'
import type { PlacementClient } from '../placement/placement-client.ts'

export interface AppDependencies {
  config: Config
  log: FastifyBaseLogger
  /** Built by the composition root (src/conductor.ts: buildApi). */
  access: ConductorAccess
  /** With KEYSTONE_URL: validates the tokens that are not API_TOKENS. */
  keystone?: KeystoneTokenValidator
}

/** What the routes reach the conductor through: its queues and its Redis caches, never PostgreSQL. */
export interface ConductorAccess {
  client: ConductorClient
  cache: EntityCache
  buffer: WriteBuffer
  views: ViewReader
  /** What an agent token bound to a host may report. */
  hosts: HostBinding
  /** Every conductor queue, for Bull Board, the queue-depth metrics and readiness. */
  queues: Queue[]
  redis: RedisConnection
  metrics: ConductorMetrics
  /** What Redis said of its persistence at start-up, for /readyz; unchecked when the API runs without src/server.ts (tests). */
  durability?: DurabilityReport
  /** The buffer shards whose scheduled flush has not run for several intervals (a removed scheduler): /readyz fails. */
  staleFlushes(): Promise<string[]>
  /** Placement, for readiness to report whether it answers; undefined without PLACEMENT_URL. */
  placement?: PlacementClient
  /** Retry-After of a write refused by back-pressure: about one flush interval, in seconds. */
  retryAfterSeconds: number
  /** With KEYSTONE_URL: where bind outcomes wait for Nova. */
  bindEvents: BindEventQueue | undefined
  /** Closes the client and the queues when the app closes. */
  close(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    conductor: ConductorAccess
  }
}

/** Builds the HTTP API; `server.ts` listens. It reaches the conductor through its queues and cache only. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps
  const app = Fastify({
    loggerInstance: deps.log,
    logController: new RequestLogController(),
    bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    // Node looks for requests past their deadline every 30 s by default and gives headers 60 s of their own:
    // a slow client was held 58.7 s against a 30 s HTTP_REQUEST_TIMEOUT_MS. Checked every second, headers included.
    http: { connectionsCheckingInterval: 1000, headersTimeout: config.HTTP_REQUEST_TIMEOUT_MS, requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS },
    // A key may be KEY_MAX_LENGTH (255) characters, percent-encoded up to three bytes each: GET of any valid key must route.
    routerOptions: { maxParamLength: 3 * KEY_MAX_LENGTH },
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  app.decorate('conductor', deps.access)
  app.addHook('onClose', () => deps.access.close())

  await app.register(errorHandler)
  await app.register(jsonBody)
  await app.register(auth, { tokens: config.API_TOKENS, keystone: deps.keystone })
  await app.register(rateLimits, { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS })
  await app.register(httpMetrics, { metrics: deps.access.metrics })
  await app.register(openapi)
  await app.register(rootRoutes)
  await app.register(healthRoutes)
  await app.register(conductorRoutes, { prefix: '/conductor' })
  await app.register(v2Routes, { prefix: '/v2' })
  await app.register(adminRoutes, { prefix: '/admin', cookieSecret: config.API_COOKIE_SECRET })
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits async plugins; the rule reads its overloads wrong
  await app.register(docsRoutes)
  return app
}
