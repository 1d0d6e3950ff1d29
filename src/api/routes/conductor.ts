import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { keySchema, writeBatchSchema } from '../../queues/contract/writes.ts'
import { entityNames, type EntityName } from '../../queues/contract/entities.ts'
import { inventoryReportSchema } from '../../queues/contract/inventory.ts'
import { HttpError } from '../http-error.ts'

const entityParam = z.enum(entityNames as [EntityName, ...EntityName[]])
const accepted = z.object({ jobId: z.string().describe('the BullMQ job that carries the report; Bull Board shows its outcome') })

/** Intake for writers and readers that do not speak BullMQ, and the dead letters for operators. */
const conductorRoutes: FastifyPluginAsyncZod = async (app) => {
  const { client, cache, buffer, metrics, hosts } = app.conductor

  app.post(
    '/writes',
    {
      config: { permission: 'report' },
      schema: {
        description: 'Usage reports: a write-batch of versioned writes',
        body: writeBatchSchema,
        response: { 202: accepted, 503: z.object({ error_message: z.string().describe("Cyborg's error envelope: JSON text with faultstring") }) },
      },
    },
    async (request, reply) => {
      await hosts.checkWrites(request.caller!, request.body.writes, app.conductor.retryAfterSeconds)
      // Back-pressure before enqueueing: while the buffer is full the writer waits, rather than fill the queue.
      for (const entity of new Set(request.body.writes.map((write) => write.entity))) {
        const reason = await buffer.backPressure(entity)
        if (reason) throw new HttpError(503, 'Service Unavailable', `${reason}; retry later`, { 'retry-after': String(app.conductor.retryAfterSeconds) })
      }
      const jobId = await client.castBatch(request.body.writes, { validated: true })
      return reply.code(202).send({ jobId })
    },
  )

  app.post(
    '/inventory',
    {
      config: { permission: 'report' },
      schema: { description: "A full inventory snapshot of one host (Cyborg's driver objects)", body: inventoryReportSchema, response: { 202: accepted } },
    },
    async (request, reply) => {
      hosts.checkInventory(request.caller!, request.body.hostname)
      const jobId = await client.reportInventory(request.body)
      return reply.code(202).send({ jobId })
    },
  )

  app.get(
    '/entities/:entity/:key',
    {
      config: { permission: 'read' },
      schema: { params: z.object({ entity: entityParam, key: keySchema }) },
    },
    async (request, reply) => {
      const { entity, key } = request.params
      // A hit costs one Redis call; only a miss goes through the read queue to PostgreSQL.
      const cached = await cache.read(entity, key)
      metrics.cacheRead(entity, cached !== null)
      const result = cached ? { found: true, ...cached } : await client.call({ entity, key })
      return reply.code(result.found ? 200 : 404).send(result)
    },
  )

  app.get(
    '/dead-letters/:entity',
    {
      config: { permission: 'observe' },
      schema: { params: z.object({ entity: entityParam }), querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
    },
    async (request) => ({ deadLetters: await buffer.deadLetters(request.params.entity, request.query.limit) }),
  )
}

export default conductorRoutes
