import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'

/** Errors as JSON with a message a person can act on; server faults are logged, never detailed. */
export default fp(async function errorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((issue) => `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'}: ${issue.message}`)
      return reply.code(400).send({ error: 'Bad Request', message: `${error.validationContext} is invalid: ${problems.join('; ')}` })
    }
    const status = error.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(status).send({ error: 'Internal Server Error', message: 'the conductor could not complete the request; see its log' })
    }
    return reply.code(status).send({ error: error.name, message: error.message })
  })
})
