import type { FastifyInstance } from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { startHarness, type Harness } from './support/harness.ts'

let harness: Harness
let app: FastifyInstance
afterEach(async () => {
  await app?.close()
  await harness?.close()
})

async function start(settings = {}) {
  harness = await startHarness(settings)
  app = await harness.app()
}

test('GET /healthz answers while the process is up', async () => {
  await start()
  const response = await app.inject({ method: 'GET', url: '/healthz' })
  expect(response.statusCode).toBe(200)
  expect(response.json()).toEqual({ status: 'ok' })
})

test('POST /conductor/writes enqueues a write-batch and answers 202 with its job id; the read sees it', async () => {
  await start({ FLUSH_INTERVAL_MS: '600000' })
  await harness.waitForFirstFlush()
  const key = harness.key('http')
  const response = await app.inject({
    method: 'POST',
    url: '/conductor/writes',
    payload: { writes: [{ entity: 'usage', key, version: 3, value: { temperature_c: 61 } }] },
  })
  expect(response.statusCode).toBe(202)
  const { jobId } = response.json()
  expect(await harness.outcome(harness.writeQueue, jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  const read = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}` })
  expect(read.statusCode).toBe(200)
  expect(read.json()).toEqual({ found: true, value: { temperature_c: 61 }, version: 3, source: 'pending' })
})

test('GET /conductor/entities reads through to PostgreSQL on a miss, and 404s a key that exists nowhere', async () => {
  await start()
  const key = harness.key('db')
  await harness.prisma.deployableUsage.create({ data: { deployableUuid: key, version: 4n, metrics: { x: 1 } } })
  const first = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}` })
  expect(first.json()).toEqual({ found: true, value: { x: 1 }, version: 4, source: 'db' })
  const second = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}` })
  expect(second.json()).toEqual({ found: true, value: { x: 1 }, version: 4, source: 'cache' })
  const missing = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${harness.key('none')}` })
  expect(missing.statusCode).toBe(404)
  expect(missing.json()).toEqual({ found: false, value: null, version: null, source: 'db' })
})

test.each([
  [{ writes: [{ entity: 'usage', key: 'k', version: -1, value: {} }] }, 'body is invalid: writes.0.version: must be a non-negative safe integer (0 to 2^53-1), got -1'],
  [{ writes: [] }, 'body is invalid: writes: Too small: expected array to have >=1 items'],
  [{}, 'body is invalid: writes: Invalid input: expected array, received undefined'],
  [{ writes: [{ entity: 'usage', key: 'k', version: 1, value: { deep: nestedArrays(2500) } }] }, 'body is invalid: writes.0.value: nested more than 32 levels deep'],
])('a bad body gets 400 with the field and the problem, and nothing is enqueued: %j', async (payload, message) => {
  await start()
  const response = await app.inject({ method: 'POST', url: '/conductor/writes', payload })
  expect(response.statusCode).toBe(400)
  expect(response.json()).toEqual({ error: 'Bad Request', message })
  expect(await harness.writeQueue.count()).toBe(0)
})

test('malformed JSON gets 400', async () => {
  await start()
  const response = await app.inject({ method: 'POST', url: '/conductor/writes', headers: { 'content-type': 'application/json' }, payload: '{"writes": [' })
  expect(response.statusCode).toBe(400)
  expect(response.json().message).toMatch(/JSON/)
})

test('a key PostgreSQL cannot hold gets 400, not a server error', async () => {
  await start()
  const response = await app.inject({ method: 'GET', url: '/conductor/entities/usage/a%00b' })
  expect(response.statusCode).toBe(400)
  expect(response.json().message).toBe('params is invalid: key: must not contain NUL (\\u0000): PostgreSQL text cannot hold it')
})

test('an unknown entity gets 400', async () => {
  await start()
  const response = await app.inject({ method: 'GET', url: '/conductor/entities/gpu/k' })
  expect(response.statusCode).toBe(400)
  expect(response.json().message).toMatch(/^params is invalid: entity: /)
})

test('GET /conductor/dead-letters lists refused rows, newest first', async () => {
  await start({ FLUSH_INTERVAL_MS: '50' })
  await harness.client.castBatch([
    { entity: 'usage', key: harness.key('bad'), version: 1, value: { s: '\u0000' } },
    { entity: 'usage', key: harness.key('good'), version: 1, value: { s: 'ok' } },
  ])
  await harness.waitForJobsDone(harness.writeQueue, 'the batch')
  await harness.waitForFlushed()
  const response = await app.inject({ method: 'GET', url: '/conductor/dead-letters/usage?limit=5' })
  expect(response.statusCode).toBe(200)
  expect(response.json().deadLetters).toEqual([expect.objectContaining({ key: harness.key('bad'), reason: expect.stringMatching(/^22P05/) })])
})

function nestedArrays(depth: number): unknown {
  let value: unknown = 0
  for (let level = 0; level < depth; level++) value = [value]
  return value
}
