import { readFileSync } from 'node:fs'
import { afterEach, expect, test } from 'vitest'
import { CONTRACT_FILE, contractText } from '../../src/queues/contract/document.ts'
import { WRITE_BATCH_JOB, WRITE_JOB } from '../../src/queues/contract/names.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness
afterEach(() => harness?.close())

function nested(depth: number): unknown {
  let value: unknown = 0
  for (let level = 1; level < depth; level++) value = [value]
  return value
}

test('the committed JSON Schema of the contract is up to date (run `npm run contract`)', () => {
  expect(readFileSync(CONTRACT_FILE, 'utf8')).toBe(contractText())
})

test.each([
  [{ entity: 'usage', key: 'k', version: -1, value: {} }, 'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got -1'],
  [{ entity: 'usage', key: 'k', version: 1.5, value: {} }, 'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got 1.5'],
  [
    { entity: 'usage', key: 'k', version: 2 ** 53, value: {} },
    'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got 9007199254740992',
  ],
  [{ entity: 'usage', key: 'k', version: '3', value: {} }, 'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got "3"'],
  [{ entity: 'fpga', key: 'k', version: 1, value: {} }, 'invalid write: entity: unknown entity "fpga"; registered: usage'],
  [{ entity: 'usage', key: '', version: 1, value: {} }, 'invalid write: key: must not be empty'],
  [{ entity: 'usage', key: 'k', version: 1, value: [1, 2] }, 'invalid write: value: must be a JSON object of metrics'],
  [{ entity: 'usage', key: 'k', version: 1 }, 'invalid write: value: is required (any JSON value)'],
  [{ entity: 'usage', key: 'a\u0000b', version: 1, value: {} }, 'invalid write: key: must not contain NUL (\\u0000): PostgreSQL text cannot hold it'],
  [{ entity: 'usage', key: 'a\ud800', version: 1, value: {} }, 'invalid write: key: must be well-formed Unicode (a lone surrogate has no UTF-8 form)'],
  [{ entity: 'usage', key: 'k', version: 1, value: { deep: nested(33) } }, 'invalid write: value: nested more than 32 levels deep'],
  // Deep enough to overflow a recursive validator's stack.
  [{ entity: 'usage', key: 'k', version: 1, value: { deep: nested(2500) } }, 'invalid write: value: nested more than 32 levels deep'],
])('an invalid write job fails with the field and the problem: %j', async (data, reason) => {
  harness = await startHarness()
  const job = await harness.writeQueue.add(WRITE_JOB, data)
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({ failedReason: reason })
})

test('a write whose value is over WRITE_VALUE_MAX_BYTES fails and says so', async () => {
  harness = await startHarness({ WRITE_VALUE_MAX_BYTES: '100' })
  const job = await harness.writeQueue.add(WRITE_JOB, { entity: 'usage', key: 'k', version: 1, value: { blob: 'x'.repeat(200) } })
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({
    failedReason: 'invalid write: value: 211 bytes of JSON, more than the 100 allowed (WRITE_VALUE_MAX_BYTES)',
  })
})

test('a job name the queue does not know fails and names the ones it does', async () => {
  harness = await startHarness()
  const job = await harness.writeQueue.add('upsert', { entity: 'usage', key: 'k', version: 1, value: {} })
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({
    failedReason: 'unknown job name "upsert" on conductor-writes: expected "write" or "write-batch"',
  })
})

test('a batch reports its invalid entries and accepts the valid ones', async () => {
  harness = await startHarness()
  const [a, b] = [harness.key('a'), harness.key('b')]
  const job = await harness.writeQueue.add(WRITE_BATCH_JOB, {
    writes: [
      { entity: 'usage', key: a, version: 1, value: { n: 1 } },
      { entity: 'usage', key: a, version: -5, value: { n: 1 } },
      { entity: 'usage', key: b, version: 3, value: { n: 3 } },
      'not a write',
      { entity: 'usage', key: b, version: 2, value: { n: 2 } },
    ],
  })
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({
    returnvalue: {
      accepted: 2,
      stale: 1,
      invalid: [
        { index: 1, reason: 'writes.1.version: must be a non-negative safe integer (0 to 2^53-1), got -5' },
        { index: 3, reason: 'writes.3: Invalid input: expected object, received string' },
      ],
    },
  })
  expect(await harness.client.call({ entity: 'usage', key: b })).toMatchObject({ found: true, version: 3, value: { n: 3 } })
})

test.each([
  [{ writes: [] }, 'invalid write-batch: writes: Too small: expected array to have >=1 items'],
  [{ writes: 'x' }, 'invalid write-batch: writes: Invalid input: expected array, received string'],
  [
    { writes: [{ entity: 'usage' }] },
    'invalid write-batch: none of its 1 writes is valid: writes.0.key: must be a string, got nothing; writes.0.version: must be a non-negative safe integer (0 to 2^53-1), got nothing; writes.0.value: is required (any JSON value)',
  ],
])('a batch that is invalid as a whole fails: %j', async (data, reason) => {
  harness = await startHarness()
  const job = await harness.writeQueue.add(WRITE_BATCH_JOB, data)
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({ failedReason: reason })
})

test('a batch of more than 10,000 writes fails', async () => {
  harness = await startHarness()
  const writes = Array.from({ length: 10_001 }, (_, i) => ({ entity: 'usage', key: `k${i}`, version: 1, value: {} }))
  const job = await harness.writeQueue.add(WRITE_BATCH_JOB, { writes })
  expect(await harness.outcome(harness.writeQueue, job.id!)).toEqual({
    failedReason: 'invalid write-batch: writes: Too big: expected array to have <=10000 items',
  })
})

test('the client refuses an invalid write before it reaches a queue', async () => {
  harness = await startHarness({}, { start: false })
  await expect(harness.client.cast({ entity: 'usage', key: 'k', version: -1, value: {} })).rejects.toThrow(
    'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got -1',
  )
  expect(await harness.writeQueue.count()).toBe(0)
})
