import fc from 'fast-check'
import { VALUE_MAX_DEPTH } from '../../../src/queues/contract/names.ts'

/** A write job's data with one thing wrong, and the path its reason must start with. */
export interface MalformedWrite {
  data: unknown
  /** `entity`, `key`, `version` or `value`; empty when the data is not an object at all. */
  field: string
}

/** Strings of any UTF-16 code unit: NUL, control characters and lone surrogates included. */
const anyText = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), ...constraints })

const MISSING = Symbol('the field left out')

const nested = (depth: number): unknown => {
  let value: unknown = 0
  for (let level = 0; level < depth; level++) value = [value]
  return value
}

/**
 * Writes broken in one field each, by property-based generation: wrong types, missing fields, keys too
 * long or that PostgreSQL cannot hold, negative, fractional and unsafe versions, values that are not
 * objects, too large or nested too deep, unknown entities. `keyOf` names keys of the otherwise valid
 * fields, so a test can tell that none of them was stored.
 */
export function malformedWrite(keyOf: (index: number) => string, valueMaxBytes: number): fc.Arbitrary<MalformedWrite> {
  const wrong = {
    entity: fc.oneof(
      anyText().filter((entity) => entity !== 'usage'),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
    ),
    key: fc.oneof(
      fc.constant(''),
      anyText({ minLength: 256, maxLength: 400 }),
      // Between ASCII, so the surrogate stays alone.
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udfff'), fc.string({ maxLength: 10 })).map((parts) => parts.join('')),
      fc.integer(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
    ),
    version: fc.oneof(
      fc.integer({ min: -(2 ** 31), max: -1 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((version) => !Number.isInteger(version)),
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map(Number),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
    ),
    value: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.integer({ min: valueMaxBytes + 1, max: 4 * valueMaxBytes }).map((bytes) => ({ blob: 'x'.repeat(bytes) })),
      // Deeper than the contract allows, up to what JSON.stringify itself survives.
      fc.integer({ min: VALUE_MAX_DEPTH, max: 3000 }).map((depth) => ({ nested: nested(depth) })),
    ),
  }
  const valid = fc.record({ entity: fc.constant('usage'), key: fc.nat(999).map(keyOf), version: fc.nat(), value: fc.constant({ in_use: 1 }) })
  const broken = (Object.keys(wrong) as (keyof typeof wrong)[]).map((field) =>
    fc.tuple(valid, fc.option(wrong[field] as fc.Arbitrary<unknown>, { freq: 5, nil: MISSING })).map(([write, bad]) => {
      const data: Record<string, unknown> = { ...write }
      if (bad === MISSING) delete data[field]
      else data[field] = bad
      return { data, field }
    }),
  )
  const notAnObject = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })).map((data) => ({ data, field: '' }))
  return fc.oneof(...broken, notAnObject)
}
