import { UnrecoverableError, type Job } from 'bullmq'
import type { z } from 'zod'
import { aRole, may, type Permission } from '../auth/access.ts'
import { describeIssues } from '../queues/contract/writes.ts'
import type { ArqService } from '../objects/arq-service.ts'
import type { DeviceProfileService } from '../objects/device-profile-service.ts'
import type { InventoryAdminService } from '../objects/inventory-admin-service.ts'
import type { InventoryQueryService } from '../objects/inventory-query-service.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import { callerFreeCommands, commandCallerSchema, commandSchemas, isCommandName, type CommandData, type CommandName } from '../queues/contract/commands.ts'
import { COMMAND_QUEUE } from '../queues/contract/names.ts'
import { InvalidJobError } from './invalid-job-error.ts'
import { JobRouter, route, type JobRoute } from './job-router.ts'

/** The route of one command: its schema, and its name as the start of an invalid command's reason. */
function command<N extends CommandName>(name: N, handle: (data: CommandData<N>) => Promise<unknown>): JobRoute {
  return route(commandSchemas[name], name, handle as (data: unknown) => Promise<unknown>)
}

/** What each command asks of its caller, as the HTTP routes that send it (conductor.ping, caller-free, asks nothing). */
const commandPermissions: { [N in Exclude<CommandName, 'conductor.ping'>]: Permission } = {
  'device-profile.create': 'device-profile.write',
  'device-profile.list': 'read',
  'device-profile.get': 'read',
  'device-profile.delete': 'device-profile.write',
  'arq.create': 'arq.write',
  'arq.get': 'read',
  'arq.list': 'read',
  'arq.bind': 'arq.write',
  'arq.unbind': 'arq.write',
  'arq.delete': 'arq.write',
  'device.list': 'read',
  'deployable.list': 'read',
  'attribute.list': 'read',
  'device.set-status': 'inventory.write',
  'attribute.create': 'inventory.write',
  'attribute.delete': 'inventory.write',
}

/**
 * Why a command job may not run for the caller it carries (contract version 3), or null. The queue
 * is reachable by whoever holds Redis credentials the ACL lets add commands: a job must say whom it
 * acts for, and runs with that caller's rights and project only, as the HTTP API would run it.
 */
function callerProblem(name: string, data: unknown): string | null {
  if (!isCommandName(name) || callerFreeCommands.includes(name)) return null
  const permission = commandPermissions[name as keyof typeof commandPermissions]
  const parsed = commandCallerSchema.safeParse((data as { caller?: unknown } | null)?.caller)
  if (!parsed.success) {
    return (data as { caller?: unknown } | null)?.caller === undefined
      ? 'the job carries no caller ({role, project_id}: whom it acts for); the HTTP API adds it, and a producer outside the API must too (docs/job-contract.md)'
      : `invalid caller: ${describeIssues(parsed.error, ['caller'])}`
  }
  const caller = parsed.data
  if (!may(caller, permission)) return `${aRole(caller.role)} caller may not run ${name} (it needs the ${permission} permission)`
  if (caller.role === 'admin') return null
  if (caller.project_id === undefined) return `a ${caller.role} caller acts in one project: give caller.project_id`
  const scoped = 'project_id' in (commandSchemas[name] as z.ZodObject).shape
  const project = (data as { project_id?: unknown }).project_id
  if (scoped && project !== caller.project_id)
    return `its project_id (${project === undefined ? 'none' : JSON.stringify(project)}) is not its caller's project (${caller.project_id})`
  return null
}

/**
 * `conductor-commands` jobs: device profiles and accelerator requests (write-through), inventory
 * reads. A command refused for the caller's reason (invalid, not found, a conflict) completes with a
 * typed refusal rather than failing: Bull Board's failed list holds only the conductor's failures.
 */
export class CommandProcessor {
  private readonly router: JobRouter

  constructor(profiles: DeviceProfileService, arqs: ArqService, inventory: InventoryQueryService, inventoryAdmin: InventoryAdminService) {
    const routes: { [N in CommandName]: JobRoute } = {
      'device-profile.create': command('device-profile.create', (data) => profiles.create(data)),
      'device-profile.list': command('device-profile.list', (data) => profiles.list(data)),
      'device-profile.get': command('device-profile.get', (data) => profiles.get(data)),
      'device-profile.delete': command('device-profile.delete', (data) => profiles.delete(data)),
      'arq.create': command('arq.create', (data) => arqs.create(data)),
      'arq.get': command('arq.get', (data) => arqs.get(data)),
      'arq.list': command('arq.list', (data) => arqs.list(data)),
      'arq.bind': command('arq.bind', (data) => arqs.bind(data)),
      'arq.unbind': command('arq.unbind', (data) => arqs.unbind(data)),
      'arq.delete': command('arq.delete', (data) => arqs.delete(data)),
      'device.list': command('device.list', (data) => inventory.devices(data)),
      'deployable.list': command('deployable.list', (data) => inventory.deployables(data)),
      'attribute.list': command('attribute.list', (data) => inventory.attributes(data)),
      'device.set-status': command('device.set-status', (data) => inventoryAdmin.setDeviceStatus(data)),
      'attribute.create': command('attribute.create', (data) => inventoryAdmin.createAttribute(data)),
      'attribute.delete': command('attribute.delete', (data) => inventoryAdmin.deleteAttribute(data)),
      'conductor.ping': command('conductor.ping', () => inventory.ping()),
    }
    this.router = new JobRouter(COMMAND_QUEUE, routes)
  }

  readonly process = async (job: Job): Promise<unknown> => {
    // A job without a caller, or beyond its caller's rights, fails for good: it is no caller's mistake to refuse, but a producer's breach.
    const refused = callerProblem(job.name, job.data)
    if (refused) throw new UnrecoverableError(`${job.name} refused: ${refused}`)
    try {
      return await this.router.process(job)
    } catch (error) {
      if (error instanceof CommandError) return error.toRefusal()
      if (error instanceof InvalidJobError) return new CommandError('invalid', error.message).toRefusal()
      throw error
    }
  }
}
