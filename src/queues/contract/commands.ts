import { z } from 'zod'
import { deviceTypes } from './inventory.ts'
import { shown } from './json-value.ts'
import type { ArqView, AttributeView, DeployableView, DeviceProfileView, DeviceView } from './views.ts'

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
  if (/^trait:CUSTOM_[A-Z0-9_]+$/.test(key))
    return value === 'required' || value === 'forbidden' ? undefined : `must be "required" or "forbidden", got ${shown(value)}`
  if (/^accel:[a-z0-9_]+$/.test(key)) return undefined
  return `unknown group key; ${GROUP_KEY_HELP}`
}

export const commandSchemas = {
  'device-profile.create': z.object({
    name: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[a-zA-Z0-9-_]+$/, 'letters, digits, "-" and "_" only'),
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
  /** An operator's device enable (`enabled`) or disable (`maintaining`): a maintaining device's deployables are not bound. */
  'device.set-status': z.object({ uuid, status: z.enum(['enabled', 'maintaining']) }),
  /** An operator's attribute of a deployable; the agent's next inventory report replaces the attributes it reports, as in Cyborg. */
  'attribute.create': z.object({ deployable_id: z.int().min(1), key: z.string().min(1).max(255), value: z.string().max(255) }),
  'attribute.delete': z.object({ uuid }),
  /** Answers once a worker has run `SELECT 1` on PostgreSQL: readiness of the whole path. */
  'conductor.ping': z.object({}),
} as const

/** The roles a command is run for: the API's callers that reach commands (agents and operators do not). */
export const commandCallerRoles = ['admin', 'service', 'reader'] as const

/**
 * Whom a command acts for (contract version 3): the HTTP API's caller, which the API adds to every
 * command it sends. A command without one (but `conductor.ping`), with a role that may not run it, or
 * whose `project_id` is not its caller's, fails without retry: a producer outside the API must say
 * on whose behalf it acts, and the worker holds it to that caller's rights.
 */
export const commandCallerSchema = z
  .object({
    role: z.enum(commandCallerRoles).describe("the caller's role: admin (every project), service (its project's ARQs, and reads), reader (reads)"),
    project_id: z.string().min(1).max(255).optional().describe('the project a service or reader caller acts in; absent for admin'),
  })
  .describe('whom the command acts for; every command but conductor.ping carries it')
export type CommandCaller = z.infer<typeof commandCallerSchema>

/** The commands a producer may send without a caller: they read nothing of any project. */
export const callerFreeCommands: readonly string[] = ['conductor.ping']

export type CommandName = keyof typeof commandSchemas
export type CommandData<N extends CommandName> = z.input<(typeof commandSchemas)[N]> & { caller?: CommandCaller }
export const commandNames = Object.keys(commandSchemas) as CommandName[]

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
  'device.set-status': DeviceView
  'attribute.create': AttributeView
  'attribute.delete': { deleted: number }
  'conductor.ping': { database: 'ok' }
}

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandSchemas, name)
}
