import { z } from 'zod'
import { jsonValue } from './json-value.ts'

/**
 * The registered entity kinds a write or read job may name, each with the shape of its value.
 * A write-behind entity is coalesced in Redis and flushed to PostgreSQL in batches.
 */
export const entityValueSchemas = {
  /** Accelerator usage metadata of one deployable, keyed by the deployable's uuid. */
  usage: z
    .record(z.string(), jsonValue, { error: 'must be a JSON object of metrics' })
    .describe('usage metrics of one deployable, as a JSON object (for example {"accelerators_in_use": 3})'),
} as const

export type EntityName = keyof typeof entityValueSchemas

export const entityNames = Object.keys(entityValueSchemas) as EntityName[]

export function isEntityName(name: string): name is EntityName {
  return Object.hasOwn(entityValueSchemas, name)
}
