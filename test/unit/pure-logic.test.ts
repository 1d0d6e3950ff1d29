// Pure logic of the data path, without Redis or PostgreSQL.
import type { Job } from 'bullmq'
import { expect, test } from 'vitest'
import { z } from 'zod'
import { parseMicroversion } from '../../src/api/plugins/microversion.ts'
import { shardOf } from '../../src/buffer/keys.ts'
import { describeSqlError, isRowRejection, isUniqueViolation, sqlState } from '../../src/db/sql-state.ts'
import { canonicalJson } from '../../src/objects/canonical-json.ts'
import { boundedJsonValue } from '../../src/queues/contract/json-value.ts'
import { InvalidJobError } from '../../src/workers/invalid-job-error.ts'
import { JobRouter, route } from '../../src/workers/job-router.ts'

test('shard routing is FNV-1a (32 bits) of the UTF-8 key modulo the shard count, the same in any language', () => {
  // Reference values of FNV-1a 32: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968.
  expect(shardOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31)
  expect(shardOf('foobar', 1000)).toBe(0xbf9cf968 % 1000)
  expect(shardOf('anything', 1)).toBe(0)
  // UTF-8 bytes, not UTF-16 code units: "é" is 0xc3 0xa9.
  let hash = 0x811c9dc5
  for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  expect(shardOf('é', 97)).toBe(hash % 97)
  const counts = new Array(4).fill(0)
  for (let i = 0; i < 4000; i++) counts[shardOf(`deployable-${i}`, 4)]++
  for (const count of counts) expect(count).toBeGreaterThan(800)
})

test('microversions are read as Cyborg reads them; outside 2.0-2.3 a 406 says the range', () => {
  expect(parseMicroversion(undefined)).toBe(0)
  expect(parseMicroversion('accelerator 2.2')).toBe(2)
  expect(parseMicroversion('ACCELERATOR 2.1')).toBe(1)
  expect(parseMicroversion('2.3')).toBe(3)
  expect(parseMicroversion('accelerator latest')).toBe(3)
  expect(() => parseMicroversion('accelerator 2.4')).toThrow('the minor version is not supported by this service. The supported version range is: [2.0, 2.3].')
  expect(() => parseMicroversion('accelerator 3.0')).toThrow('supports major version 2 only')
  expect(() => parseMicroversion('compute 2.1 extra')).toThrow('Invalid value for OpenStack-API-Version header')
})

test('SQLSTATE classes: rows refused for what they hold (22, 23, 54) are isolated; anything else is retried', () => {
  const adapterError = (code: string, detail?: string) => ({
    message: 'raw\nlast line',
    meta: { driverAdapterError: { cause: { originalCode: code, originalMessage: 'value too long', detail } } },
  })
  expect(sqlState(adapterError('22001'))).toBe('22001')
  expect(sqlState({ code: '57P01' })).toBe('57P01')
  expect(sqlState(new Error('no code'))).toBeUndefined()
  for (const code of ['22001', '23505', '23503', '54000']) expect(isRowRejection(code)).toBe(true)
  for (const code of ['08006', '57P01', '40001', '53300', undefined]) expect(isRowRejection(code)).toBe(false)
  expect(isUniqueViolation({ code: 'P2002' })).toBe(true)
  expect(isUniqueViolation(adapterError('23505'))).toBe(true)
  expect(isUniqueViolation(adapterError('23503'))).toBe(false)
  expect(describeSqlError(adapterError('22001', 'Failing row contains (x)'))).toBe('22001 value too long (Failing row contains (x))')
  // Prisma's messages end with the cause, after lines that say where the call was made.
  expect(describeSqlError(new Error('\nInvalid `prisma.deviceProfile.create()` invocation:\n\nServer has closed the connection.\n'))).toBe(
    'Server has closed the connection.',
  )
})

test('JSON depth is measured without recursion: 32 levels pass, 33 and 100,000 are refused with a reason', () => {
  const nested = (depth: number) => {
    let value: unknown = 1
    for (let i = 0; i < depth; i++) value = [value]
    return value
  }
  const schema = boundedJsonValue(32)
  expect(schema.safeParse(nested(32)).success).toBe(true)
  for (const depth of [33, 100_000]) {
    const result = schema.safeParse(nested(depth))
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toBe('nested more than 32 levels deep')
  }
})

test('canonical JSON sorts object keys at every level and keeps array order', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}')
  expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }))
})

test('the job router: job name → schema → handler; an unknown name or invalid data is an InvalidJobError', async () => {
  const router = new JobRouter('q', {
    double: route(z.object({ n: z.int() }), 'invalid double', async ({ n }) => n * 2),
    echo: route(z.string(), 'invalid echo', async (text) => text),
  })
  const job = (name: string, data: unknown) => ({ name, data }) as Job
  expect(await router.process(job('double', { n: 21 }))).toBe(42)
  await expect(router.process(job('triple', {}))).rejects.toThrow(new InvalidJobError('unknown job name "triple" on q: expected "double" or "echo"'))
  await expect(router.process(job('double', { n: 'x' }))).rejects.toThrow(/^invalid double: n: /)
  await expect(router.process(job('double', null))).rejects.toBeInstanceOf(InvalidJobError)
  // Names of Object.prototype are not routes.
  await expect(router.process(job('toString', {}))).rejects.toThrow(/^unknown job name "toString"/)
})
