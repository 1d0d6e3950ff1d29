import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ConductorMetrics } from '../../metrics/conductor-metrics.ts'

/** Observes every answer's latency by route pattern (never by raw URL: ids would explode the labels). */
export default fp(async function httpMetrics(app: FastifyInstance, options: { metrics: ConductorMetrics }) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    options.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
})
