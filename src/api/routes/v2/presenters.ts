import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import { arqStates, type ArqView, type AttributeView, type DeployableView, type DeviceProfileView, type DeviceView } from '../../../queues/contract/views.ts'
import { MINOR_DEVICE_STATUS } from '../../plugins/microversion.ts'

// The v2 resources as Cyborg's api-ref shows them (api-ref/source/*.inc and doc/api_samples in
// openstack/cyborg): the views the conductor's commands return, with links, in Cyborg's field set.

/** A success without a body (204, and 202 of a PATCH), as Cyborg answers. */
export const noContent = z.void().describe('no body')

const links = z.array(z.object({ href: z.string(), rel: z.enum(['self', 'bookmark']) }))
const timestamp = z.string().describe('ISO 8601, UTC')

export const deviceProfileSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  groups: z.array(z.record(z.string(), z.string())),
  created_at: timestamp,
  updated_at: timestamp.nullable(),
  links,
})

export const arqSchema = z.object({
  uuid: z.string(),
  state: z.enum(arqStates),
  device_profile_name: z.string(),
  device_profile_group_id: z.int(),
  hostname: z.string().nullable(),
  device_rp_uuid: z.string().nullable(),
  instance_uuid: z.string().nullable(),
  project_id: z.string().nullable(),
  attach_handle_type: z.string().describe('"" until bound'),
  attach_handle_uuid: z.string().nullable(),
  attach_handle_info: z.record(z.string(), z.string()).describe('{} until bound'),
  bind_failure_reason: z.string().nullable().describe('why the last bind ended BindFailed; null otherwise (not in Cyborg)'),
  created_at: timestamp,
  updated_at: timestamp.nullable(),
  links,
})

export const deviceSchema = z.object({
  uuid: z.string(),
  type: z.string(),
  vendor: z.string(),
  model: z.string(),
  std_board_info: z.string().describe('JSON text'),
  vendor_board_info: z.string(),
  hostname: z.string(),
  status: z.enum(['enabled', 'maintaining']).optional().describe('from microversion 2.3'),
  created_at: timestamp,
  updated_at: timestamp.nullable(),
  links,
})

export const deployableSchema = z.object({
  uuid: z.string(),
  parent_id: z.int().nullable(),
  root_id: z.int().nullable(),
  name: z.string(),
  num_accelerators: z.int(),
  device_id: z.int(),
  attributes_list: z.string().describe('JSON text of [{key: value}, ...]'),
  rp_uuid: z.string().nullable(),
  driver_name: z.string().nullable(),
  bitstream_id: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp.nullable(),
  links,
})

export const attributeSchema = z.object({
  uuid: z.string(),
  id: z.int(),
  deployable_id: z.int(),
  key: z.string(),
  value: z.string(),
  created_at: timestamp,
  updated_at: timestamp.nullable(),
  links,
})

/** The URL the caller reached the API at, for `links`. */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`
}

const self = (request: FastifyRequest, collection: string, uuid: string) => [{ href: `${baseUrl(request)}/v2/${collection}/${uuid}`, rel: 'self' as const }]

export function presentDeviceProfile(request: FastifyRequest, view: DeviceProfileView): z.infer<typeof deviceProfileSchema> {
  const { uuid, name, description, groups, created_at, updated_at } = view
  return { uuid, name, description, groups, created_at, updated_at, links: self(request, 'device_profiles', uuid) }
}

export function presentArq(request: FastifyRequest, view: ArqView): z.infer<typeof arqSchema> {
  return {
    ...view,
    // Cyborg shows an unbound ARQ's handle as "" and {}.
    attach_handle_type: view.attach_handle_type ?? '',
    attach_handle_uuid: view.attach_handle_uuid ?? null,
    attach_handle_info: view.attach_handle_info ?? {},
    links: self(request, 'accelerator_requests', view.uuid),
  }
}

export function presentDevice(request: FastifyRequest, view: DeviceView): z.infer<typeof deviceSchema> {
  const { status, ...rest } = view
  return {
    ...rest,
    ...(request.apiMinor >= MINOR_DEVICE_STATUS && { status: status as 'enabled' | 'maintaining' }),
    links: self(request, 'devices', view.uuid),
  }
}

export function presentDeployable(request: FastifyRequest, view: DeployableView): z.infer<typeof deployableSchema> {
  return {
    ...view,
    links: [...self(request, 'deployables', view.uuid), { href: `${baseUrl(request)}/deployables/${view.uuid}`, rel: 'bookmark' }],
  }
}

export function presentAttribute(request: FastifyRequest, view: AttributeView): z.infer<typeof attributeSchema> {
  return { ...view, links: self(request, 'attributes', view.uuid) }
}
