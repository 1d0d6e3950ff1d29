import { UnrecoverableError, type Job } from 'bullmq'
import { CommandError, commandNames, commandSchemas, type CommandName } from '../queues/commands.ts'
import { describeIssues } from '../queues/contract.ts'
import { COMMAND_QUEUE } from '../queues/names.ts'
import type { ArqService } from './arq-service.ts'
import type { DeviceProfileService } from './device-profile-service.ts'
import type { InventoryQueryService } from './inventory-query-service.ts'

/** Processes `conductor-commands` jobs: device profiles and accelerator requests (write-through), inventory reads. */
export class CommandProcessor {
  private readonly handlers: { [N in CommandName]: (data: never) => Promise<unknown> }

  constructor(profiles: DeviceProfileService, arqs: ArqService, inventory: InventoryQueryService) {
    this.handlers = {
      'device-profile.create': (data) => profiles.create(data),
      'device-profile.list': (data) => profiles.list(data),
      'device-profile.get': (data) => profiles.get(data),
      'device-profile.delete': (data) => profiles.delete(data),
      'arq.create': (data) => arqs.create(data),
      'arq.get': (data) => arqs.get(data),
      'arq.list': (data) => arqs.list(data),
      'arq.bind': (data) => arqs.bind(data),
      'arq.unbind': (data) => arqs.unbind(data),
      'arq.delete': (data) => arqs.delete(data),
      'device.list': (data) => inventory.devices(data),
      'deployable.list': (data) => inventory.deployables(data),
      'attribute.list': (data) => inventory.attributes(data),
      'conductor.ping': () => inventory.ping(),
    }
  }

  async process(job: Job): Promise<unknown> {
    const name = job.name as CommandName
    if (!commandNames.includes(name)) {
      throw new UnrecoverableError(`invalid: unknown command ${JSON.stringify(job.name)} on ${COMMAND_QUEUE}; known: ${commandNames.join(', ')}`)
    }
    const parsed = commandSchemas[name].safeParse(job.data)
    if (!parsed.success) throw new UnrecoverableError(`invalid: ${name}: ${describeIssues(parsed.error)}`)
    try {
      return await this.handlers[name](parsed.data as never)
    } catch (error) {
      // A refused command is final: retrying cannot change the answer.
      if (error instanceof CommandError) throw new UnrecoverableError(error.message)
      throw error
    }
  }
}
