import { z } from 'zod'
import { readResultSchema, readSchema, writeBatchSchema, writeResultSchema, writeSchema } from './contract.ts'
import { READ_JOB, READ_QUEUE, WRITE_BATCH_JOB, WRITE_JOB, WRITE_QUEUE } from './names.ts'

/** Where `npm run contract` writes the contract; README links it and a test keeps it current. */
export const CONTRACT_FILE = new URL('../../docs/job-contract.schema.json', import.meta.url)

export const CONTRACT_VERSION = 1

/** The public job contract as JSON Schema, one entry per queue and job name. */
export function contractDocument(): Record<string, unknown> {
  const job = (data: z.ZodType, result: z.ZodType) => ({
    data: z.toJSONSchema(data, { io: 'input', target: 'draft-2020-12' }),
    returnvalue: z.toJSONSchema(result, { io: 'output', target: 'draft-2020-12' }),
  })
  return {
    title: 'Cyborg Conductor job contract',
    version: CONTRACT_VERSION,
    description:
      'BullMQ queues with prefix CONDUCTOR_PREFIX (default "cyborg"). Job data is JSON; unknown fields are ignored. ' +
      'Invalid jobs fail without retry, with a reason naming the field and the problem.',
    queues: {
      [WRITE_QUEUE]: { [WRITE_JOB]: job(writeSchema, writeResultSchema), [WRITE_BATCH_JOB]: job(writeBatchSchema, writeResultSchema) },
      [READ_QUEUE]: { [READ_JOB]: job(readSchema, readResultSchema) },
    },
  }
}

export function contractText(): string {
  return `${JSON.stringify(contractDocument(), null, 2)}\n`
}
