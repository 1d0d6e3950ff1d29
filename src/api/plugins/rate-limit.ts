import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisConnection } from '../../redis-connection.ts'

export interface RateLimitOptions {
  max: number
  windowMs: number
  /** The counters live in Redis, so every conductor of a prefix counts one token's requests together. */
  redis: RedisConnection
  prefix: string
}

/**
 * At most `max` requests per token (per address without one) in each window; then 429 with
 * Retry-After. Registered after auth, so it knows the caller. Health, readiness and metrics are exempt.
 */
export default fp(async function rateLimits(app: FastifyInstance, options: RateLimitOptions) {
  await app.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.windowMs,
    redis: options.redis,
    nameSpace: `${options.prefix}:rate-limit:`,
    // A Redis hiccup must not turn every request away: /readyz reports Redis.
    skipOnError: true,
    keyGenerator: (request) => (request.caller ? `token:${request.caller.id}` : `ip:${request.ip}`),
  })
})
