import { z } from 'zod'
import { entityNames, entityValueSchemas, type EntityName } from './entities.ts'
import { boundedJsonValue, jsonValue, shown } from './json-value.ts'
import { KEY_MAX_LENGTH, VALUE_MAX_DEPTH, WRITE_BATCH_MAX } from './names.ts'

// The public job contract. Producers in any language follow docs/job-contract.schema.json, which
// `npm run contract` writes from these schemas; unknown fields are ignored so the contract can grow.

const entitySchema = z
  .enum(entityNames as [EntityName, ...EntityName[]], {
    error: (issue) => `unknown entity ${shown(issue.input)}; registered: ${entityNames.join(', ')}`,
  })
  .describe('a registered entity kind')

/** A lone UTF-16 surrogate: it has no UTF-8 form, so Redis and PostgreSQL would store U+FFFD and conflate keys. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** PostgreSQL text cannot hold NUL. */
export const keyHasNoNul = (key: string): boolean => !key.includes('\u0000')
export const keyIsWellFormed = (key: string): boolean => !LONE_SURROGATE.test(key)

export const keySchema = z
  .string({ error: (issue) => `must be a string, got ${shown(issue.input)}` })
  .min(1, 'must not be empty')
  .max(KEY_MAX_LENGTH, `must be at most ${KEY_MAX_LENGTH} characters`)
  .refine(keyHasNoNul, 'must not contain NUL (\\u0000): PostgreSQL text cannot hold it')
  .refine(keyIsWellFormed, 'must be well-formed Unicode (a lone surrogate has no UTF-8 form)')
  .describe('the entity key, for `usage` the deployable uuid')

const NON_NEGATIVE_SAFE_INTEGER = 'must be a non-negative safe integer (0 to 2^53-1)'
const versionSchema = z
  .int({ error: (issue) => `${NON_NEGATIVE_SAFE_INTEGER}, got ${shown(issue.input)}` })
  .min(0, { error: (issue) => `${NON_NEGATIVE_SAFE_INTEGER}, got ${shown(issue.input)}` })
  .describe('chosen by the writer, monotonic per key (a timestamp in ms or a sequence number); a non-negative safe integer')

/** Data of a `write` job, and each entry of a `write-batch` job. */
export const writeSchema = z
  .object({
    entity: entitySchema,
    key: keySchema,
    version: versionSchema,
    value: boundedJsonValue(VALUE_MAX_DEPTH),
  })
  .superRefine((write, ctx) => {
    const value = entityValueSchemas[write.entity].safeParse(write.value)
    for (const issue of value.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', path: ['value', ...issue.path], message: issue.message })
    }
  })
  .describe('one versioned write: accepted only if `version` is higher than every version of this key seen so far')

export type Write = { entity: string; key: string; version: number; value: unknown }

/** Data of a `write-batch` job. */
export const writeBatchSchema = z
  .object({ writes: z.array(writeSchema).min(1).max(WRITE_BATCH_MAX) })
  .describe(`up to ${WRITE_BATCH_MAX} writes in one job; invalid entries are reported, valid ones accepted`)

/** How a worker checks a `write-batch` before it checks each entry on its own. */
export const writeBatchEnvelopeSchema = z.object({ writes: z.array(z.unknown()).min(1).max(WRITE_BATCH_MAX) })

/** Data of a `read` job. */
export const readSchema = z.object({ entity: entitySchema, key: keySchema }).describe('read the newest accepted value of one key')

export type Read = { entity: string; key: string }

export const invalidWriteSchema = z.object({ index: z.int().min(0), reason: z.string() })

/** Return value of `write` and `write-batch` jobs. */
// A batch's result lists its first INVALID_LISTED_MAX invalid writes, each reason cut to REASON_MAX_CHARS:
// the result of a 10,000-write batch stays small, kept with its job and in the queue's events stream.
export const INVALID_LISTED_MAX = 100
export const REASON_MAX_CHARS = 300

export const writeResultSchema = z.object({
  accepted: z.int().min(0).describe('writes taken into the pending buffer'),
  stale: z.int().min(0).describe('writes dropped: their version was not higher than the newest known'),
  invalid: z
    .array(invalidWriteSchema)
    .optional()
    .describe(
      `write-batch only: entries refused, with the reason (the first ${INVALID_LISTED_MAX} of them, each reason at most ${REASON_MAX_CHARS} characters)`,
    ),
})

export type WriteResult = z.infer<typeof writeResultSchema>

export const readSources = ['pending', 'cache', 'db'] as const
export type ReadSource = (typeof readSources)[number]

/** Return value of `read` jobs. */
export const readResultSchema = z.object({
  found: z.boolean(),
  value: jsonValue.describe('the value, or null when the key exists nowhere'),
  version: z.int().min(0).nullable(),
  source: z.enum(readSources).describe('pending: accepted, not yet flushed; cache: Redis; db: PostgreSQL'),
})

export type ReadResult = { found: boolean; value: unknown; version: number | null; source: ReadSource }

/** Why a value (as JSON) is too large for WRITE_VALUE_MAX_BYTES, naming its `path`; null when it fits. */
export function oversizedValue(valueJson: string, maxBytes: number, path: (string | number)[] = []): string | null {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: a value that short needs no count (the usual case).
  if (valueJson.length * 3 <= maxBytes) return null
  const bytes = Buffer.byteLength(valueJson)
  if (bytes <= maxBytes) return null
  return `${[...path, 'value'].join('.')}: ${bytes} bytes of JSON, more than the ${maxBytes} allowed (WRITE_VALUE_MAX_BYTES)`
}

/**
 * Why a version (of a write, or of an inventory report) lies more than `maxAheadMs`
 * (VERSION_MAX_AHEAD_MS) beyond the conductor's clock, naming its `path`; null when it does not. An
 * honest version is a timestamp in ms or a sequence number, both below the clock; one far beyond it
 * would make every later report of its key or host stale.
 */
export function versionTooFarAhead(version: number, maxAheadMs: number, path: (string | number)[] = [], now = Date.now()): string | null {
  if (version <= now + maxAheadMs) return null
  return `${[...path, 'version'].join('.')}: ${version} is more than VERSION_MAX_AHEAD_MS (${maxAheadMs} ms) ahead of the conductor's clock (${now}): a version is a timestamp in ms or a sequence number`
}

/** Renders zod issues as one line a person can act on: `field: problem; field: problem`. */
export function describeIssues(error: z.ZodError, pathPrefix: (string | number)[] = []): string {
  return error.issues
    .map((issue) => {
      const path = [...pathPrefix, ...issue.path].map(String)
      return `${path.length > 0 ? path.join('.') : '(data)'}: ${issue.message}`
    })
    .join('; ')
}
