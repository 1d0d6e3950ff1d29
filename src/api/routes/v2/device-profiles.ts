import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { deviceProfileKey } from '../../../cache/view-cache.ts'
import { commandSchemas, deviceProfileVisible, type DeviceProfileView } from '../../../queues/commands.ts'
import { isUuid } from '../../../queues/name-uuid.ts'
import { scopeOf } from '../../plugins/auth.ts'
import { MINOR_DEVICE_PROFILE_BY_NAME, requireMinor } from '../../plugins/microversion.ts'
import { deviceProfileSchema, noContent, presentDeviceProfile } from './presenters.ts'

const newProfile = commandSchemas['device-profile.create'].omit({ project_id: true })
const commaSeparated = (what: string) => z.string().min(1).describe(`comma-separated ${what}`)

/** Cyborg's /v2/device_profiles. */
const deviceProfileRoutes: FastifyPluginAsyncZod = async (app) => {
  const { client, views } = app.conductor

  app.get(
    '/device_profiles',
    {
      config: { permission: 'read' },
      schema: { querystring: z.object({ name: commaSeparated('names').optional() }), response: { 200: z.object({ device_profiles: z.array(deviceProfileSchema) }) } },
    },
    async (request) => {
      const names = request.query.name?.split(',')
      const profiles = await client.command('device-profile.list', { project_id: scopeOf(request) })
      return { device_profiles: profiles.filter((profile) => !names || names.includes(profile.name)).map((profile) => presentDeviceProfile(request, profile)) }
    },
  )

  app.get(
    '/device_profiles/:id',
    {
      config: { permission: 'read' },
      schema: {
        description: 'By uuid; by name from microversion 2.2',
        params: z.object({ id: z.string().min(1).describe('uuid, or name (2.2)') }),
        response: { 200: z.object({ device_profile: deviceProfileSchema }) },
      },
    },
    async (request) => {
      const { id } = request.params
      if (!isUuid(id)) requireMinor(request.apiMinor, MINOR_DEVICE_PROFILE_BY_NAME, 'getting a device profile by name')
      const scope = scopeOf(request)
      const profile = await views.read<DeviceProfileView>(
        'device-profile',
        deviceProfileKey(id),
        (view) => deviceProfileVisible(view.project_id, scope),
        () => client.command('device-profile.get', { id, project_id: scope }),
      )
      return { device_profile: presentDeviceProfile(request, profile) }
    },
  )

  app.post(
    '/device_profiles',
    {
      config: { permission: 'device-profile.write' },
      schema: {
        description: 'A list of exactly one device profile, as Cyborg takes it',
        body: z.array(newProfile).length(1, 'give exactly one device profile per request, as a list: [{"name": ..., "groups": [...]}]'),
        response: { 201: deviceProfileSchema },
      },
    },
    async (request, reply) => {
      const profile = await client.command('device-profile.create', { ...request.body[0]!, project_id: scopeOf(request) })
      return reply.code(201).send(presentDeviceProfile(request, profile))
    },
  )

  const remove = async (value: string, scope: string | undefined) => {
    // A uuid, or names separated by commas, deleted one after the other as Cyborg does.
    for (const id of isUuid(value) ? [value] : value.split(',')) await client.command('device-profile.delete', { id, project_id: scope })
  }
  app.delete(
    '/device_profiles/:value',
    { config: { permission: 'device-profile.write' }, schema: { params: z.object({ value: z.string().min(1).describe('a uuid, or comma-separated names') }), response: { 204: noContent } } },
    async (request, reply) => {
      await remove(request.params.value, scopeOf(request))
      return reply.code(204).send()
    },
  )
  app.delete(
    '/device_profiles',
    { config: { permission: 'device-profile.write' }, schema: { querystring: z.object({ value: commaSeparated('names, or one uuid') }), response: { 204: noContent } } },
    async (request, reply) => {
      await remove(request.query.value, scopeOf(request))
      return reply.code(204).send()
    },
  )
}

export default deviceProfileRoutes
