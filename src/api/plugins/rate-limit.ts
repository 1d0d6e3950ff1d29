import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface RateLimitOptions {
  max: number
  windowMs: number
}

/**
 * At most `max` requests per token (per address without one) in each window of each conductor process;
 * then 429 with Retry-After. Registered after auth, so it knows the caller. Health, readiness and
 * metrics are exempt. The counters stay in the process: a hot read then costs one Redis call, not two,
 * and N conductors behind a load balancer let a token make up to N × max requests.
 */
export default fp(async function rateLimits(app: FastifyInstance, options: RateLimitOptions) {
  await app.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: (request) => (request.caller ? `token:${request.caller.id}` : `ip:${request.ip}`),
  })
})
