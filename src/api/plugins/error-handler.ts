import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { CommandError, type CommandErrorCode } from '../../queues/commands.ts'
import { ContractError } from '../../queues/conductor-client.ts'
import { HttpError } from '../http-error.ts'

/** The HTTP status of a refused command, as Cyborg answers each. */
const COMMAND_STATUS: Record<CommandErrorCode, [number, string]> = {
  invalid: [400, 'Bad Request'],
  not_found: [404, 'Not Found'],
  conflict: [409, 'Conflict'],
  illegal_transition: [409, 'Conflict'],
  unresolved: [423, 'Locked'],
}

/** Errors as JSON with a message a person can act on; server faults are logged, never detailed. */
export default fp(async function errorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((issue) => `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'}: ${issue.message}`)
      return reply.code(400).send({ error: 'Bad Request', message: `${error.validationContext} is invalid: ${problems.join('; ')}` })
    }
    if (error instanceof HttpError) return reply.code(error.statusCode).headers(error.headers).send({ error: error.name, message: error.message })
    if (error instanceof CommandError) {
      const [status, name] = COMMAND_STATUS[error.code]
      return reply.code(status).send({ error: name, message: error.detail })
    }
    if (error instanceof ContractError) return reply.code(400).send({ error: 'Bad Request', message: error.message })
    if (/timed out before finishing/.test(error.message)) {
      request.log.warn({ err: error }, 'the conductor did not answer in time')
      return reply.code(504).send({ error: 'Gateway Timeout', message: 'the conductor did not answer within READ_TIMEOUT_MS; try again, and check /readyz' })
    }
    const status = error.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(status).send({ error: 'Internal Server Error', message: 'the conductor could not complete the request; see its log' })
    }
    return reply.code(status).send({ error: STATUS_CODES[status] ?? error.name, message: error.message })
  })
})
