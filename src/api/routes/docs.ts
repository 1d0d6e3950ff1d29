import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** Swagger UI at /docs and the OpenAPI document at /docs/json; open to anyone, like the api-ref. */
export default async function docsRoutes(app: FastifyInstance) {
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } })
}
