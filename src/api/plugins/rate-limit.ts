import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export interface RateLimitOptions {
  max: number
  windowMs: number
}

/**
 * What a request is counted against: an agent's host (its bound host, or for an agent token that
 * names none, shared by a fleet, the address it calls from), so that one busy host never makes the
 * others wait; every other token on its own; a request without a valid token (none, or one refused)
 * by its address, so guessing tokens is limited too.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const caller = request.caller
  if (!caller) return `ip:${request.ip}`
  if (caller.role === 'agent') return caller.host !== null ? `agent:${caller.id}:host:${caller.host}` : `agent:${caller.id}:ip:${request.ip}`
  return `token:${caller.id}`
}

/**
 * At most `max` requests per rateLimitKey in each window of each conductor process; then 429 with
 * Retry-After. Registered after auth, whose onRequest hook finds the caller without refusing a bad
 * token yet, so that the request is counted before it is refused. Health, readiness and metrics are
 * exempt. The counters stay in the process: a hot read then costs one Redis call, not two, and N
 * conductors behind a load balancer let a token make up to N × max requests.
 */
export default fp(async function rateLimits(app: FastifyInstance, options: RateLimitOptions) {
  await app.register(rateLimit, { global: true, max: options.max, timeWindow: options.windowMs, keyGenerator: rateLimitKey })
})
