import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

/**
 * The OpenAPI document, generated from the routes' zod schemas (the same ones that validate the
 * requests); Swagger UI serves it at /docs and /docs/json. Registered before the routes it describes.
 */
export default fp(async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Cyborg Conductor',
        description:
          "OpenStack Cyborg's v2 API (device profiles, accelerator requests, devices, deployables, attributes) and the conductor's " +
          'intake, health and metrics endpoints. Send `Authorization: Bearer <token>`; v2 answers `OpenStack-API-Version: accelerator 2.0` to `2.3`.',
        version: '2.3',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
})
