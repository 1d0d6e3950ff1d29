import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { commandSchemas } from '../../../queues/contract/commands.ts'
import { HttpError, notFound } from '../../http-error.ts'
import { actingAs } from '../../plugins/auth.ts'
import { attributeSchema, deployableSchema, deviceSchema, noContent, presentAttribute, presentDeployable, presentDevice } from './presenters.ts'

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
    async (request) => ({
      devices: (await client.command('device.list', { ...request.query, ...actingAs(request) })).map((device) => presentDevice(request, device)),
    }),
  )
  app.get('/devices/:uuid', { config: read, schema: { params: uuidParam, response: { 200: deviceSchema } } }, async (request) =>
    presentDevice(request, only(await client.command('device.list', { ...request.params, ...actingAs(request) }), 'device', request.params.uuid)),
  )

  app.get('/deployables', { config: read, schema: { response: { 200: z.object({ deployables: z.array(deployableSchema) }) } } }, async (request) => ({
    deployables: (await client.command('deployable.list', actingAs(request))).map((deployable) => presentDeployable(request, deployable)),
  }))
  app.get('/deployables/:uuid', { config: read, schema: { params: uuidParam, response: { 200: deployableSchema } } }, async (request) =>
    presentDeployable(request, only(await client.command('deployable.list', { ...request.params, ...actingAs(request) }), 'deployable', request.params.uuid)),
  )

  const admin = { permission: 'inventory.write' } as const
  for (const [action, status] of [
    ['enable', 'enabled'],
    ['disable', 'maintaining'],
  ] as const) {
    app.post(
      `/devices/:uuid/${action}`,
      {
        config: admin,
        schema: {
          description: `Sets the device's status to ${status}, as Cyborg; the host's Placement sync then ${status === 'enabled' ? 'releases' : 'reserves'} its providers' inventory`,
          params: uuidParam,
          response: { 200: noContent },
        },
      },
      async (request, reply) => {
        await client.command('device.set-status', { uuid: request.params.uuid, status, ...actingAs(request) })
        return reply.code(200).send()
      },
    )
  }

  app.patch(
    '/deployables/:uuid/program',
    {
      config: admin,
      schema: {
        description:
          "Programs an FPGA: answered as Cyborg answers for a driver that cannot program (FPGAProgramError, 500); none of this conductor's drivers can",
        params: uuidParam,
        body: z
          .array(z.object({ op: z.string(), path: z.literal('/bitstream_id'), value: z.array(z.object({ image_uuid: uuidParam.shape.uuid })).min(1) }))
          .min(1),
      },
    },
    async (request) => {
      const deployable = only(await client.command('deployable.list', { ...request.params, ...actingAs(request) }), 'deployable', request.params.uuid)
      throw new HttpError(
        500,
        'Internal Server Error',
        `FPGA programming failed with return False. (driver ${deployable.driver_name ?? '(none)'} of deployable ${deployable.uuid} cannot program a bitstream)`,
      )
    },
  )

  app.post('/attributes', { config: admin, schema: { body: commandSchemas['attribute.create'], response: { 201: attributeSchema } } }, async (request, reply) =>
    reply.code(201).send(presentAttribute(request, await client.command('attribute.create', { ...request.body, ...actingAs(request) }))),
  )
  app.delete('/attributes/:uuid', { config: admin, schema: { params: uuidParam, response: { 204: noContent } } }, async (request, reply) => {
    await client.command('attribute.delete', { ...request.params, ...actingAs(request) })
    return reply.code(204).send()
  })

  app.get(
    '/attributes',
    {
      config: read,
      schema: {
        querystring: z.object({ deployable_id: z.coerce.number().int().min(1).optional(), key: z.string().optional() }),
        response: { 200: z.object({ attributes: z.array(attributeSchema) }) },
      },
    },
    async (request) => ({
      attributes: (await client.command('attribute.list', { ...request.query, ...actingAs(request) })).map((attribute) => presentAttribute(request, attribute)),
    }),
  )
  app.get('/attributes/:uuid', { config: read, schema: { params: uuidParam, response: { 200: attributeSchema } } }, async (request) =>
    presentAttribute(request, only(await client.command('attribute.list', { ...request.params, ...actingAs(request) }), 'attribute', request.params.uuid)),
  )
}

export default inventoryRoutes
