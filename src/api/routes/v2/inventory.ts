import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { commandSchemas } from '../../../queues/commands.ts'
import { notFound } from '../../http-error.ts'
import { attributeSchema, deployableSchema, deviceSchema, presentAttribute, presentDeployable, presentDevice } from './presenters.ts'

const uuidParam = z.object({ uuid: z.uuid({ error: (issue) => `must be a uuid, got ${JSON.stringify(issue.input)}` }) })

/** The only one of a list filtered by uuid, or 404. */
function only<T>(views: T[], what: string, uuid: string): T {
  if (views.length === 0) throw notFound(`no ${what} ${uuid}`)
  return views[0]!
}

/** Cyborg's /v2/devices, /v2/deployables and /v2/attributes: the inventory agents reported, read-only. */
const inventoryRoutes: FastifyPluginAsyncZod = async (app) => {
  const { client } = app.conductor
  const read = { permission: 'read' } as const

  app.get(
    '/devices',
    {
      config: read,
      schema: { querystring: commandSchemas['device.list'].omit({ uuid: true }), response: { 200: z.object({ devices: z.array(deviceSchema) }) } },
    },
    async (request) => ({ devices: (await client.command('device.list', request.query)).map((device) => presentDevice(request, device)) }),
  )
  app.get('/devices/:uuid', { config: read, schema: { params: uuidParam, response: { 200: deviceSchema } } }, async (request) =>
    presentDevice(request, only(await client.command('device.list', request.params), 'device', request.params.uuid)),
  )

  app.get('/deployables', { config: read, schema: { response: { 200: z.object({ deployables: z.array(deployableSchema) }) } } }, async (request) => ({
    deployables: (await client.command('deployable.list', {})).map((deployable) => presentDeployable(request, deployable)),
  }))
  app.get('/deployables/:uuid', { config: read, schema: { params: uuidParam, response: { 200: deployableSchema } } }, async (request) =>
    presentDeployable(request, only(await client.command('deployable.list', request.params), 'deployable', request.params.uuid)),
  )

  app.get(
    '/attributes',
    {
      config: read,
      schema: {
        querystring: z.object({ deployable_id: z.coerce.number().int().min(1).optional(), key: z.string().optional() }),
        response: { 200: z.object({ attributes: z.array(attributeSchema) }) },
      },
    },
    async (request) => ({ attributes: (await client.command('attribute.list', request.query)).map((attribute) => presentAttribute(request, attribute)) }),
  )
  app.get('/attributes/:uuid', { config: read, schema: { params: uuidParam, response: { 200: attributeSchema } } }, async (request) =>
    presentAttribute(request, only(await client.command('attribute.list', request.params), 'attribute', request.params.uuid)),
  )
}

export default inventoryRoutes
