import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { ConductorTimeoutError } from '../../queues/client/conductor-timeout-error.ts'
import { ContractError } from '../../queues/client/contract-error.ts'
import { BackPressureError } from '../../queues/client/back-pressure-error.ts'
import { CommandError } from '../../queues/contract/command-error.ts'
import { HttpError } from '../http-error.ts'
import { isRedisUnavailable } from '../../redis/unavailable.ts'

/**
 * Cyborg's error envelope (cyborg/api/middleware/parsable_error.py over WSME's fault):
 * `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"...\", \"debuginfo\": null}"}`, the JSON
 * string Cyborg's clients (openstacksdk, cyborgclient) take the message from.
 */
export function errorEnvelope(status: number, message: string): { error_message: string } {
  return { error_message: JSON.stringify({ faultcode: status < 500 ? 'Client' : 'Server', faultstring: message, debuginfo: null }) }
}

/** Every error, unknown routes included, in Cyborg's envelope with a message a person can act on; server faults are logged, never detailed. */
export default fp(async function errorHandler(app: FastifyInstance) {
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorEnvelope(404, `The resource could not be found: no route ${request.method} ${request.url.split('?')[0]}`)),
  )
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const fault = (status: number, message: string, headers: Record<string, string> = {}) =>
      reply.code(status).headers(headers).send(errorEnvelope(status, message))
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((issue) => `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'}: ${issue.message}`)
      return fault(400, `${error.validationContext} is invalid: ${problems.join('; ')}`)
    }
    if (error instanceof HttpError) return fault(error.statusCode, error.message, error.headers)
    if (error instanceof CommandError) return fault(error.status, error.detail)
    if (error instanceof BackPressureError) return fault(503, `${error.message}; retry later`, { 'retry-after': String(error.retryAfterSeconds) })
    if (error instanceof ContractError) return fault(400, error.message)
    if (error instanceof ConductorTimeoutError) {
      request.log.warn({ err: error }, 'the conductor did not answer in time')
      return fault(504, 'the conductor did not answer within READ_TIMEOUT_MS; try again, and check /readyz')
    }
    if (isRedisUnavailable(error)) {
      request.log.warn({ err: error }, 'Redis did not answer in time')
      return fault(503, 'Redis did not answer within REDIS_COMMAND_TIMEOUT_MS; retry later, and check /readyz', { 'retry-after': '1' })
    }
    const status = error.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return fault(status, 'the conductor could not complete the request; see its log')
    }
    return fault(status, error.message)
  })
})
