import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { z } from 'zod'
import { entityValueSchemas, isEntityName } from './entities.ts'
import { isJsonWithin, jsonValue } from './json-value.ts'
import { KEY_MAX_LENGTH, VALUE_MAX_DEPTH } from './names.ts'
import { describeIssues, keyHasNoNul, keyIsWellFormed, writeSchema, type Write } from './writes.ts'

/**
 * Checks one write of the contract, on the hot path of every write job. ajv compiles, per entity,
 * `writeSchema`'s JSON Schema (what docs/job-contract.schema.json publishes, so the contract has one
 * source) with the entity's value schema, into plain code that decides a valid write faster than zod
 * (`npx tsx bench/validators.ts`); any JSON value inside it is left to `isJsonWithin`, one walk of the
 * value that also bounds its depth (so nothing recurses without end). Beside them run the checks JSON
 * Schema cannot say, with the very predicates zod uses. A write this fast path does not pass goes
 * through zod, whose issues make the reason: the messages are zod's, word for word, and a
 * disagreement could only cost time, never let an invalid write through
 * (test/unit/write-validator.test.ts checks they agree).
 */
export class WriteValidator {
  private readonly byEntity: Map<string, ValidateFunction>

  constructor() {
    const ajv = new Ajv2020({ strict: false, strictNumbers: true, allErrors: false })
    // Any JSON value (the recursive `jsonValue`) compiles to the empty schema: the value is walked by
    // isJsonWithin instead, which costs a tenth of the compiled recursion (docs/performance.md).
    const anyJsonValue = (ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }) => {
      if (ctx.zodSchema === jsonValue) for (const name of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[name]
    }
    const compile = (schema: z.ZodType) => ajv.compile(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', override: anyJsonValue }))
    this.byEntity = new Map(Object.entries(entityValueSchemas).map(([entity, value]) => [entity, compile(z.object({ ...writeSchema.shape, value }))]))
  }

  /** The write, or the reason it breaks the contract (`path` names it within its job, e.g. `writes.3`). */
  check(data: unknown, path: (string | number)[] = []): Write | string {
    if (this.passes(data)) return data
    const parsed = writeSchema.safeParse(data)
    return parsed.success ? parsed.data : describeIssues(parsed.error, path)
  }

  private passes(data: unknown): data is Write {
    if (data === null || typeof data !== 'object') return false
    const { entity, key, value } = data as Partial<Write>
    if (!isJsonWithin(value, VALUE_MAX_DEPTH)) return false
    const validate = typeof entity === 'string' && isEntityName(entity) ? this.byEntity.get(entity) : undefined
    // ajv counts a key's length in code points, zod (and the contract) in UTF-16 code units.
    return validate?.(data) === true && key!.length <= KEY_MAX_LENGTH && keyHasNoNul(key!) && keyIsWellFormed(key!)
  }
}
