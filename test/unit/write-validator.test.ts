// The compiled write validator against zod, the contract's source: same verdict, same reason.
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { VALUE_MAX_DEPTH } from '../../src/queues/contract/names.ts'
import { WriteValidator } from '../../src/queues/contract/write-validator.ts'
import { describeIssues, writeSchema } from '../../src/queues/contract/writes.ts'

const validator = new WriteValidator()

function zodVerdict(data: unknown) {
  const parsed = writeSchema.safeParse(data)
  return parsed.success ? { ok: true, write: parsed.data } : { ok: false, reason: describeIssues(parsed.error, ['writes', 0]) }
}

function validatorVerdict(data: unknown) {
  const checked = validator.check(data, ['writes', 0])
  if (typeof checked === 'string') return { ok: false, reason: checked }
  // Unknown fields are ignored by the contract; zod drops them, the fast path leaves them.
  const { entity, key, version, value } = checked
  return { ok: true, write: { entity, key, version, value } }
}

function nested(depth: number): unknown {
  let value: unknown = 1
  for (let level = 0; level < depth; level++) value = { a: value }
  return value
}

test('the compiled validator and zod agree on hostile writes, reason for reason', () => {
  const surrogateText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 300 })
  const write = fc.record(
    {
      entity: fc.oneof(fc.constant('usage'), fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null)),
      key: fc.oneof(fc.uuid(), surrogateText, fc.constant(''), fc.constant('a\u0000b'), fc.constant('😀'.repeat(200)), fc.integer()),
      version: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 2), fc.constant('1')),
      value: fc.oneof(fc.jsonValue(), fc.anything(), fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.string()))),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  )
  fc.assert(
    fc.property(fc.oneof(write, fc.anything()), (data) => {
      expect(validatorVerdict(data)).toEqual(zodVerdict(data))
    }),
    { numRuns: 3000 },
  )
})

test('what JSON Schema cannot say is still refused: NUL, lone surrogates, depth, a non-object usage value', () => {
  const base = { entity: 'usage', key: 'k', version: 1, value: { a: 1 } }
  const cases = [
    { ...base, key: 'a\u0000b' },
    { ...base, key: '\uD800x' },
    { ...base, value: nested(VALUE_MAX_DEPTH + 1) },
    { ...base, value: nested(100_000) },
    { ...base, value: [1, 2] },
    { ...base, value: { a: Number.NaN } },
    { ...base, key: 'x'.repeat(256) },
  ]
  for (const [index, data] of cases.entries()) {
    const verdict = validatorVerdict(data)
    expect(verdict.ok, `case ${index}`).toBe(false)
    expect(verdict).toEqual(zodVerdict(data))
  }
  // 200 astral characters are 400 UTF-16 code units: too long for zod, so too long here.
  expect(validatorVerdict({ ...base, key: '😀'.repeat(200) })).toEqual(zodVerdict({ ...base, key: '😀'.repeat(200) }))
  expect(validatorVerdict(base)).toEqual({ ok: true, write: base })
})
