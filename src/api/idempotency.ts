import type { FastifyRequest } from 'fastify'
import type { Idempotency } from '../queues/client/conductor-client.ts'
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../queues/contract/idempotency.ts'
import { scopeOf } from './plugins/auth.ts'
import { badRequest } from './http-error.ts'

/**
 * The idempotency key of a create: `Idempotency-Key`, or the `X-OpenStack-Request-ID` OpenStack's
 * clients send (and send again when they retry), scoped to the caller's project and the request's
 * body: one request id carried by several different creates (Nova passes its global request id along
 * a whole boot) still makes each of them. None: every request creates.
 */
export function idempotencyOf(request: FastifyRequest): Idempotency | undefined {
  const header = request.headers['idempotency-key'] ?? request.headers['x-openstack-request-id']
  const key = Array.isArray(header) ? header[0] : header
  if (key === undefined || key === '') return undefined
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH)
    throw badRequest(`Idempotency-Key and X-OpenStack-Request-ID take at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`)
  return { scope: `${scopeOf(request) ?? '*'}\u0000${JSON.stringify(request.body)}`, key }
}
