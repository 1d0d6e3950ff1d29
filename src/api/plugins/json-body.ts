import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import { badRequest } from '../http-error.ts'

/**
 * JSON bodies, parsed as Fastify does (secure-json-parse refuses `__proto__` and `constructor.prototype`
 * keys, which could reach an object's prototype), but refused with a message that says which: Fastify's
 * own parser answers every failure with "Body is not valid JSON".
 */
export default fp(async function jsonBody(app: FastifyInstance) {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(badRequest('the body is empty, but its content-type is application/json'), undefined)
    try {
      done(null, secureJson.parse(body as string, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch (error) {
      const message = (error as Error).message
      done(
        badRequest(
          /forbidden (prototype|constructor) property/.test(message)
            ? 'the body holds a "__proto__" or "constructor.prototype" key, which is refused (it could reach an object\'s prototype)'
            : `the body is not valid JSON: ${message}`,
        ),
        undefined,
      )
    }
  })
})
