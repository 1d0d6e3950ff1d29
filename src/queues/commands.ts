import { z } from 'zod'
import { deviceTypes } from './inventory.ts'
import { shown } from './json-value.ts'

// Commands on `conductor-commands`: Cyborg's conductor RPCs for device profiles and accelerator
// requests, write-through (the job completes once PostgreSQL has committed), and the reads of the
// inventory the HTTP API lists.

const uuid = z.uuid({ error: (issue) => `must be a uuid, got ${shown(issue.input)}` })
/** The caller's project: requests and profiles of other projects are invisible to it. Absent: all projects (admin). */
const projectScope = z.string().min(1).max(255).optional()

const GROUP_KEY_HELP = 'expected resources:<RESOURCE_CLASS>, trait:CUSTOM_<TRAIT> or accel:<name>'

/** One group of a device profile, e.g. {"resources:FPGA": "1", "trait:CUSTOM_FPGA_INTEL": "required"}. */
export const deviceProfileGroupSchema = z.record(z.string(), z.string()).superRefine((group, ctx) => {
  for (const [key, value] of Object.entries(group)) {
    const problem = groupEntryProblem(key, value)
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem })
  }
})

function groupEntryProblem(key: string, value: string): string | undefined {
  if (/^resources:[A-Z][A-Z0-9_]*$/.test(key)) return /^[1-9][0-9]{0,3}$/.test(value) ? undefined : `must be a count from 1 to 9999, got ${shown(value)}`
  if (/^trait:CUSTOM_[A-Z0-9_]+$/.test(key)) return value === 'required' || value === 'forbidden' ? undefined : `must be "required" or "forbidden", got ${shown(value)}`
  if (/^accel:[a-z0-9_]+$/.test(key)) return undefined
  return `unknown group key; ${GROUP_KEY_HELP}`
}

export const commandSchemas = {
  'device-profile.create': z.object({
    name: z.string().min(1).max(255).regex(/^[a-zA-Z0-9-_]+$/, 'letters, digits, "-" and "_" only'),
    groups: z.array(deviceProfileGroupSchema).min(1, 'at least one group'),
    description: z.string().max(255).nullable().optional(),
    project_id: projectScope,
  }),
  'device-profile.list': z.object({ name: z.string().optional(), project_id: projectScope }),
  'device-profile.get': z.object({ id: z.string().min(1).describe('name or uuid'), project_id: projectScope }),
  'device-profile.delete': z.object({ id: z.string().min(1).describe('name or uuid'), project_id: projectScope }),
  'arq.create': z.object({ device_profile_name: z.string().min(1), project_id: projectScope }),
  'arq.get': z.object({ uuid, project_id: projectScope }),
  'arq.list': z.object({ instance_uuid: uuid.optional(), bind_state: z.literal('resolved').optional(), project_id: projectScope }),
  'arq.bind': z.object({ uuid, hostname: z.string().min(1).max(255), device_rp_uuid: uuid, instance_uuid: uuid, project_id: projectScope }),
  'arq.unbind': z.object({ uuid, project_id: projectScope }),
  'arq.delete': z
    .object({ uuids: z.array(uuid).min(1).optional(), instance_uuid: uuid.optional(), project_id: projectScope })
    .refine((data) => (data.uuids === undefined) !== (data.instance_uuid === undefined), 'give either uuids or instance_uuid'),
  'device.list': z.object({ uuid: uuid.optional(), type: z.enum(deviceTypes).optional(), vendor: z.string().optional(), hostname: z.string().optional() }),
  'deployable.list': z.object({ uuid: uuid.optional() }),
  'attribute.list': z.object({ uuid: uuid.optional(), deployable_id: z.int().min(1).optional(), key: z.string().optional() }),
  /** Answers once a worker has run `SELECT 1` on PostgreSQL: readiness of the whole path. */
  'conductor.ping': z.object({}),
} as const

export type CommandName = keyof typeof commandSchemas
export type CommandData<N extends CommandName> = z.input<(typeof commandSchemas)[N]>
export const commandNames = Object.keys(commandSchemas) as CommandName[]

export const arqStates = ['Initial', 'BindStarted', 'Bound', 'BindFailed', 'Unbound', 'UnbindFailed', 'Deleting'] as const
export type ArqState = (typeof arqStates)[number]

export interface DeviceProfileView {
  uuid: string
  name: string
  groups: Record<string, string>[]
  description: string | null
  project_id: string | null
  created_at: string
  updated_at: string
}

export interface ArqView {
  uuid: string
  state: ArqState
  device_profile_name: string
  device_profile_group_id: number
  hostname: string | null
  device_rp_uuid: string | null
  instance_uuid: string | null
  attach_handle_type: string | null
  attach_handle_uuid: string | null
  attach_handle_info: Record<string, string> | null
  project_id: string | null
  created_at: string
  updated_at: string
}

/** Cyborg's device: a physical card. `std_board_info` is JSON text, as Cyborg shows it. */
export interface DeviceView {
  uuid: string
  type: string
  vendor: string
  model: string
  std_board_info: string
  vendor_board_info: string
  hostname: string
  status: string
  created_at: string
  updated_at: string
}

/** Cyborg's deployable; `attributes_list` is JSON text of `[{key: value}, ...]`, as Cyborg shows it. */
export interface DeployableView {
  uuid: string
  parent_id: number | null
  root_id: number | null
  name: string
  num_accelerators: number
  device_id: number
  attributes_list: string
  rp_uuid: string | null
  driver_name: string | null
  bitstream_id: string | null
  created_at: string
  updated_at: string
}

export interface AttributeView {
  uuid: string
  id: number
  deployable_id: number
  key: string
  value: string
  created_at: string
  updated_at: string
}

export interface CommandResults {
  'device-profile.create': DeviceProfileView
  'device-profile.list': DeviceProfileView[]
  'device-profile.get': DeviceProfileView
  'device-profile.delete': { deleted: number }
  'arq.create': ArqView[]
  'arq.get': ArqView
  'arq.list': ArqView[]
  'arq.bind': ArqView
  'arq.unbind': ArqView
  'arq.delete': { deleted: number }
  'device.list': DeviceView[]
  'deployable.list': DeployableView[]
  'attribute.list': AttributeView[]
  'conductor.ping': { database: 'ok' }
}

/** A project sees its own device profiles and the public ones (no project); no scope (admin) sees all. */
export function deviceProfileVisible(owner: string | null, scope: string | undefined): boolean {
  return scope === undefined || owner === null || owner === scope
}

/** A project sees its own ARQs only; no scope (admin) sees all. */
export function arqVisible(owner: string | null, scope: string | undefined): boolean {
  return scope === undefined || owner === scope
}

export const commandErrorCodes = ['invalid', 'not_found', 'conflict', 'illegal_transition', 'unresolved'] as const
export type CommandErrorCode = (typeof commandErrorCodes)[number]

/** A command refused for a reason of its own: its job fails with `<code>: <message>` as the reason. */
export class CommandError extends Error {
  override name = 'CommandError'

  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`)
  }

  get detail(): string {
    return this.message.slice(this.code.length + 2)
  }

  /** The CommandError a failed job's reason carries, if it carries one. */
  static fromReason(reason: string): CommandError | undefined {
    const match = /^([a-z_]+): ([\s\S]*)$/.exec(reason)
    const code = match?.[1] as CommandErrorCode | undefined
    return code && commandErrorCodes.includes(code) ? new CommandError(code, match![2]!) : undefined
  }
}
