import { z } from 'zod'
import { readResultSchema, readSchema, writeBatchSchema, writeResultSchema, writeSchema } from './contract.ts'
import { commandSchemas } from './commands.ts'
import { INVENTORY_REPORT_DELAY_MS } from './conductor-client.ts'
import { inventoryReportSchema, inventoryResultSchema } from './inventory.ts'
import { COMMAND_QUEUE, INVENTORY_QUEUE, INVENTORY_REPORT_JOB, READ_JOB, READ_QUEUE, WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from './names.ts'

/** Where `npm run contract` writes the contract; README links it and a test keeps it current. */
export const CONTRACT_FILE = new URL('../../docs/job-contract.schema.json', import.meta.url)

export const CONTRACT_VERSION = 1

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
      'Commands fail with "<code>: <message>", code one of invalid, not_found, conflict, illegal_transition, unresolved; ' +
      'their results are the device profile and ARQ objects of the Cyborg v2 API.',
    queues: {
      [WRITE_QUEUE]: { [WRITE_JOB]: job(writeSchema, writeResultSchema), [WRITE_BATCH_JOB]: job(writeBatchSchema, writeResultSchema) },
      [READ_QUEUE]: { [READ_JOB]: job(readSchema, readResultSchema) },
      [INVENTORY_QUEUE]: {
        [INVENTORY_REPORT_JOB]: job(inventoryReportSchema, inventoryResultSchema, {
          delay: INVENTORY_REPORT_DELAY_MS,
          deduplication: { id: '<hostname>', replace: true, keepLastIfActive: true },
        }),
      },
      [COMMAND_QUEUE]: Object.fromEntries(Object.entries(commandSchemas).map(([name, schema]) => [name, job(schema)])),
    },
  }
}

export function contractText(): string {
  return `${JSON.stringify(contractDocument(), null, 2)}\n`
}
