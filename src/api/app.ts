import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { EntityCache } from '../cache/entity-cache.ts'
import type { WriteBuffer } from '../cache/write-buffer.ts'
import type { ConductorClient } from '../queues/conductor-client.ts'
import errorHandler from './plugins/error-handler.ts'
import conductorRoutes from './routes/conductor.ts'
import healthRoutes from './routes/health.ts'

export interface AppDependencies {
  client: ConductorClient
  cache: EntityCache
  buffer: WriteBuffer
  log: FastifyBaseLogger
  bodyLimit: number
  /** Retry-After of a write refused by back-pressure: about one flush interval, in seconds. */
  retryAfterSeconds: number
}

declare module 'fastify' {
  interface FastifyInstance {
    conductor: Pick<AppDependencies, 'client' | 'cache' | 'buffer' | 'retryAfterSeconds'>
  }
}

/** Builds the HTTP API; `server.ts` listens. It reaches the conductor through its queues and cache only. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.log, bodyLimit: deps.bodyLimit })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('conductor', { client: deps.client, cache: deps.cache, buffer: deps.buffer, retryAfterSeconds: deps.retryAfterSeconds })
  await app.register(errorHandler)
  await app.register(healthRoutes)
  await app.register(conductorRoutes, { prefix: '/conductor' })
  return app
}
