import { z } from 'zod'
import { readResultSchema, readSchema, writeBatchSchema, writeResultSchema, writeSchema } from './writes.ts'
import { callerFreeCommands, commandCallerSchema, commandSchemas } from './commands.ts'
import { commandRefusalSchema } from './command-error.ts'
import { INVENTORY_REPORT_DELAY_MS, inventoryReportSchema, inventoryResultSchema } from './inventory.ts'
import { COMMAND_QUEUE, INVENTORY_QUEUE, INVENTORY_REPORT_JOB, READ_JOB, READ_QUEUE, WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from './names.ts'

/** Where `npm run contract` writes the contract; docs/job-contract.md explains it and a test keeps it current. */
export const CONTRACT_FILE = new URL('../../../docs/job-contract.schema.json', import.meta.url)

/**
 * 3: every command but conductor.ping carries its `caller`; one without fails. 2: a command refused for the caller's reason completes with a refusal instead of failing (version 1
 * failed it with the reason that the refusal's `reason` still carries). docs/job-contract.md lists the changes.
 */
export const CONTRACT_VERSION = 3

/** The public job contract as JSON Schema, one entry per queue and job name. */
export function contractDocument(): Record<string, unknown> {
  const job = (data: z.ZodType, result?: z.ZodType, options?: Record<string, unknown>) => ({
    data: z.toJSONSchema(data, { io: 'input', target: 'draft-2020-12' }),
    ...(result && { returnvalue: z.toJSONSchema(result, { io: 'output', target: 'draft-2020-12' }) }),
    ...(options && { options }),
  })
  return {
    title: 'Cyborg Conductor job contract',
    version: CONTRACT_VERSION,
    description:
      'BullMQ queues with prefix CONDUCTOR_PREFIX (default "cyborg"); on a Redis Cluster (REDIS_CLUSTER_NODES set) the prefix is ' +
      '"{CONDUCTOR_PREFIX}", in braces, so that each queue\'s keys share one slot. Job data is JSON; unknown fields are ignored. ' +
      'Invalid jobs fail without retry, with a reason naming the field and the problem. ' +
      "A command refused for the caller's reason (an unknown command, invalid data, an object not found, a conflict) completes with " +
      'the `commandRefusal` result below, code one of invalid, not_found, conflict, illegal_transition, unresolved, with the HTTP status ' +
      'Cyborg answers for it; a command that succeeds returns the device profile, ARQ and inventory objects of the Cyborg v2 API. ' +
      'Every command but conductor.ping carries `caller` (whom it acts for: role and project_id); one without, with a role that may ' +
      "not run it, or with a project_id other than its caller's fails without retry. " +
      'Every other failure (PostgreSQL down, a timeout) fails the job and is retried as configured. ' +
      'job-contract.md, beside this file, explains each job; this file is written by `npm run contract` from src/queues/contract/.',
    commandRefusal: z.toJSONSchema(commandRefusalSchema, { io: 'output', target: 'draft-2020-12' }),
    queues: {
      [WRITE_QUEUE]: { [WRITE_JOB]: job(writeSchema, writeResultSchema), [WRITE_BATCH_JOB]: job(writeBatchSchema, writeResultSchema) },
      [READ_QUEUE]: { [READ_JOB]: job(readSchema, readResultSchema) },
      [INVENTORY_QUEUE]: {
        [INVENTORY_REPORT_JOB]: job(inventoryReportSchema, inventoryResultSchema, {
          delay: INVENTORY_REPORT_DELAY_MS,
          deduplication: { id: '<hostname>', replace: true, keepLastIfActive: true },
        }),
      },
      [COMMAND_QUEUE]: Object.fromEntries(
        Object.entries(commandSchemas).map(([name, schema]) => [
          name,
          job(callerFreeCommands.includes(name) ? schema : (schema as z.ZodObject).safeExtend({ caller: commandCallerSchema })),
        ]),
      ),
    },
  }
}

export function contractText(): string {
  return `${JSON.stringify(contractDocument(), null, 2)}\n`
}
