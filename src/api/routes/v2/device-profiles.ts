import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { deviceProfileKey } from '../../../cache/view-cache.ts'
import { commandSchemas } from '../../../queues/contract/commands.ts'
import { deviceProfileVisible, type DeviceProfileView } from '../../../queues/contract/views.ts'
import { isUuid } from '../../../queues/contract/name-uuid.ts'
import { actingAs, type Acting } from '../../plugins/auth.ts'
import { idempotencyOf } from '../../idempotency.ts'
import { MINOR_DEVICE_PROFILE_BY_NAME, requireMinor } from '../../plugins/microversion.ts'
import { deviceProfileSchema, noContent, presentDeviceProfile } from './presenters.ts'

/**
 * A profile as clients write it, made into Cyborg's form before the contract's checks, as Cyborg's
 * _validate_post_request and its string-valued groups do: `"resources:FPGA": 1` → `"1"` (cyborgclient's
 * own help writes a number), and spaces around the name in `"trait: CUSTOM_X"` or `"resources: FPGA"` dropped.
 */
function cyborgForm(profile: unknown): unknown {
  if (typeof profile !== 'object' || profile === null || !Array.isArray((profile as { groups?: unknown }).groups)) return profile
  const groups = (profile as { groups: unknown[] }).groups.map((group) => {
    if (typeof group !== 'object' || group === null || Array.isArray(group)) return group
    return Object.fromEntries(
      Object.entries(group).map(([key, value]) => {
        const prefix = /^(resources|trait):/.exec(key)?.[0]
        return [prefix ? prefix + key.slice(prefix.length).trim() : key, typeof value === 'number' && Number.isInteger(value) ? String(value) : value]
      }),
    )
  })
  return { ...profile, groups }
}

const newProfile = z.preprocess(cyborgForm, commandSchemas['device-profile.create'].omit({ project_id: true }))
const commaSeparated = (what: string) => z.string().min(1).describe(`comma-separated ${what}`)

/** Cyborg's /v2/device_profiles. */
const deviceProfileRoutes: FastifyPluginAsyncZod = async (app) => {
  const { client, views } = app.conductor

  app.get(
    '/device_profiles',
    {
      config: { permission: 'read' },
      schema: {
        querystring: z.object({ name: commaSeparated('names').optional() }),
        response: { 200: z.object({ device_profiles: z.array(deviceProfileSchema) }) },
      },
    },
    async (request) => {
      const names = request.query.name?.split(',')
      const profiles = await client.command('device-profile.list', { ...actingAs(request) })
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
      const scope = actingAs(request)
      const profile = await views.read<DeviceProfileView>(
        'device-profile',
        deviceProfileKey(id),
        (view) => deviceProfileVisible(view.project_id, scope.project_id),
        () => client.command('device-profile.get', { id, ...scope }),
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
      const profile = await client.command('device-profile.create', { ...request.body[0]!, ...actingAs(request) }, undefined, idempotencyOf(request))
      return reply.code(201).send(presentDeviceProfile(request, profile))
    },
  )

  const remove = async (value: string, scope: Acting) => {
    // A uuid, or names separated by commas, deleted one after the other as Cyborg does.
    for (const id of isUuid(value) ? [value] : value.split(',')) await client.command('device-profile.delete', { id, ...scope })
  }
  app.delete(
    '/device_profiles/:value',
    {
      config: { permission: 'device-profile.write' },
      schema: { params: z.object({ value: z.string().min(1).describe('a uuid, or comma-separated names') }), response: { 204: noContent } },
    },
    async (request, reply) => {
      await remove(request.params.value, actingAs(request))
      return reply.code(204).send()
    },
  )
  app.delete(
    '/device_profiles',
    {
      config: { permission: 'device-profile.write' },
      schema: { querystring: z.object({ value: commaSeparated('names, or one uuid') }), response: { 204: noContent } },
    },
    async (request, reply) => {
      await remove(request.query.value, actingAs(request))
      return reply.code(204).send()
    },
  )
}

export default deviceProfileRoutes
