import type { FastifyInstance } from 'fastify'
import { expect, test } from 'vitest'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { fault, useApi, type StartedApi } from '../support/api.ts'
import type { Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness
let app: FastifyInstance
let as: StartedApi['as']
const startApi = useApi()
const start = async (settings = {}) => ({ harness, app, as } = await startApi(settings))

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
    headers: as('agent'),
    payload: { writes: [{ entity: 'usage', key, version: 3, value: { temperature_c: 61 } }] },
  })
  expect(response.statusCode).toBe(202)
  const { jobId } = response.json()
  expect(await harness.outcome(harness.writeQueue, jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  const read = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}`, headers: as('readerA') })
  expect(read.statusCode).toBe(200)
  expect(read.json()).toEqual({ found: true, value: { temperature_c: 61 }, version: 3, source: 'pending' })
})

test('GET /conductor/entities reads through to PostgreSQL on a miss, and 404s a key that exists nowhere', async () => {
  await start()
  const key = harness.key('db')
  await harness.prisma.deployableUsage.create({ data: { deployableUuid: key, version: 4n, metrics: { x: 1 } } })
  const first = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}`, headers: as('readerA') })
  expect(first.json()).toEqual({ found: true, value: { x: 1 }, version: 4, source: 'db' })
  const second = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${key}`, headers: as('readerA') })
  expect(second.json()).toEqual({ found: true, value: { x: 1 }, version: 4, source: 'cache' })
  const missing = await app.inject({ method: 'GET', url: `/conductor/entities/usage/${harness.key('none')}`, headers: as('readerA') })
  expect(missing.statusCode).toBe(404)
  expect(missing.json()).toEqual({ found: false, value: null, version: null, source: 'db' })
})

test.each([
  [
    { writes: [{ entity: 'usage', key: 'k', version: -1, value: {} }] },
    'body is invalid: writes.0.version: must be a non-negative safe integer (0 to 2^53-1), got -1',
  ],
  [{ writes: [] }, 'body is invalid: writes: Too small: expected array to have >=1 items'],
  [{}, 'body is invalid: writes: Invalid input: expected array, received undefined'],
  [
    { writes: [{ entity: 'usage', key: 'k', version: 1, value: { deep: nestedArrays(2500) } }] },
    'body is invalid: writes.0.value: nested more than 32 levels deep',
  ],
])('a bad body gets 400 with the field and the problem, and nothing is enqueued: %j', async (payload, message) => {
  await start()
  const response = await app.inject({ method: 'POST', url: '/conductor/writes', headers: as('agent'), payload })
  expect(response.statusCode).toBe(400)
  expect(fault(response)).toEqual(message)
  expect(await harness.writeQueue.count()).toBe(0)
})

test('malformed JSON gets 400', async () => {
  await start()
  const response = await app.inject({
    method: 'POST',
    url: '/conductor/writes',
    headers: { ...as('agent'), 'content-type': 'application/json' },
    payload: '{"writes": [',
  })
  expect(response.statusCode).toBe(400)
  expect(fault(response)).toMatch(/JSON/)
})

test('a key PostgreSQL cannot hold gets 400, not a server error', async () => {
  await start()
  const response = await app.inject({ method: 'GET', url: '/conductor/entities/usage/a%00b', headers: as('readerA') })
  expect(response.statusCode).toBe(400)
  expect(fault(response)).toBe('params is invalid: key: must not contain NUL (\\u0000): PostgreSQL text cannot hold it')
})

test('an unknown entity gets 400', async () => {
  await start()
  const response = await app.inject({ method: 'GET', url: '/conductor/entities/gpu/k', headers: as('readerA') })
  expect(response.statusCode).toBe(400)
  expect(fault(response)).toMatch(/^params is invalid: entity: /)
})

test('GET /conductor/dead-letters lists refused rows, newest first', async () => {
  await start({ FLUSH_INTERVAL_MS: '50' })
  await harness.client.castBatch([
    { entity: 'usage', key: harness.key('bad'), version: 1, value: { s: '\u0000' } },
    { entity: 'usage', key: harness.key('good'), version: 1, value: { s: 'ok' } },
  ])
  await harness.waitForJobsDone(harness.writeQueue, 'the batch')
  await harness.waitForFlushed()
  const response = await app.inject({ method: 'GET', url: '/conductor/dead-letters/usage?limit=5', headers: as('admin') })
  expect(response.statusCode).toBe(200)
  expect(response.json().deadLetters).toEqual([expect.objectContaining({ key: harness.key('bad'), reason: expect.stringMatching(/^22P05/) })])
})

test('a cached ARQ or device profile is read from Redis alone: it answers with no worker running; a miss reads through', async () => {
  await start()
  const profile = (
    await app.inject({
      method: 'POST',
      url: '/v2/device_profiles',
      headers: as('admin'),
      payload: [{ name: harness.key('gpu'), groups: [{ 'resources:GPU': '1' }] }],
    })
  ).json()
  const [arq] = (
    await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.name } })
  ).json().arqs
  await harness.stopConductor()

  const hot = await app.inject({ url: `/v2/accelerator_requests/${arq.uuid}`, headers: as('serviceA') })
  expect(hot.json()).toEqual(arq)
  const hotProfile = await app.inject({ url: `/v2/device_profiles/${profile.name}`, headers: { ...as('readerA'), 'openstack-api-version': 'accelerator 2.2' } })
  expect(hotProfile.json()).toEqual({ device_profile: profile })
  expect(await harness.commandQueue.count()).toBe(0)

  await harness.views.drop('arq', [arq.uuid])
  await harness.startConductor()
  const cold = await app.inject({ url: `/v2/accelerator_requests/${arq.uuid}`, headers: as('serviceA') })
  expect(cold.json()).toEqual(arq)
  const metrics = (await app.inject({ url: '/metrics' })).body
  expect(metrics).toMatch(/^cyborg_cache_requests_total\{kind="arq",result="hit"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_cache_requests_total\{kind="arq",result="miss"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_cache_requests_total\{kind="device-profile",result="hit"\} 1$/m)
})

test('POST /conductor/inventory takes a snapshot from an agent token: 202 with the job id, then reconciled', async () => {
  await start()
  const hostname = harness.key('intake')
  const report = { hostname, version: 1, devices: await new DummyDriver({ hostname }).discover() }
  const response = await app.inject({ method: 'POST', url: '/conductor/inventory', headers: as('agent'), payload: report })
  expect(response.statusCode).toBe(202)
  expect(await harness.outcome(harness.inventoryQueue, response.json().jobId)).toEqual({
    returnvalue: { applied: true, added: expect.any(Number), updated: 0, deleted: 0 },
  })
  expect(await harness.prisma.device.count({ where: { hostname } })).toBe(1)
  const refused = await app.inject({ method: 'POST', url: '/conductor/inventory', headers: as('agent'), payload: { hostname, version: 'one', devices: [] } })
  expect(fault(refused)).toEqual('body is invalid: version: Invalid input: expected number, received string')
})

test('/readyz answers 200 with every check while the conductor runs, 503 naming what is missing when it does not', async () => {
  await start()
  // Ready once every shard's scheduled flush has run.
  const ready = await waitFor(async () => {
    const answer = await app.inject({ url: '/readyz' })
    return answer.statusCode === 200 ? answer : undefined
  }, 'the conductor to be ready')
  expect(ready.json()).toEqual({
    status: 'ready',
    checks: {
      redis: 'ok',
      postgres: 'ok',
      flush: 'ok',
      durability: 'unchecked',
      workers: { 'conductor-writes': 1, 'conductor-reads': 1, 'conductor-inventory': 1, 'conductor-commands': 1, 'conductor-flush': 1 },
      placement: 'not configured',
    },
  })
  await harness.stopConductor()
  // The ready answer serves probes for a second; then the next probe finds the workers gone.
  const down = await waitFor(async () => {
    const answer = await app.inject({ url: '/readyz' })
    return answer.statusCode === 503 ? answer : undefined
  }, 'readiness to fail')
  expect(down.json()).toEqual({
    status: 'not ready',
    checks: {
      redis: 'ok',
      postgres: 'no answer within 3000 ms',
      // The last flush ran just now: not stale yet.
      flush: 'ok',
      durability: 'unchecked',
      workers: {
        'conductor-writes': 'no worker',
        'conductor-reads': 'no worker',
        'conductor-inventory': 'no worker',
        'conductor-commands': 'no worker',
        'conductor-flush': 'no worker',
      },
      placement: 'not configured',
    },
  })
  expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' })
})

test('/readyz probes share one answer for a second: 50 probes cost one command job, not 50', async () => {
  await start()
  await waitFor(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, 'the conductor to be ready')
  const pings = async () => (await harness.commandQueue.getJobs(['completed', 'active', 'waiting'])).filter((job) => job.name === 'conductor.ping').length
  // A fresh answer: the first one's second has passed.
  const before = await waitFor(async () => {
    const count = await pings()
    // 25 at once share the answer in progress, 25 after it reuse the settled one.
    const answers = await Promise.all(Array.from({ length: 25 }, () => app.inject({ url: '/readyz' })))
    for (let probe = 0; probe < 25; probe++) answers.push(await app.inject({ url: '/readyz' }))
    expect(answers.map(({ statusCode }) => statusCode)).toEqual(Array(50).fill(200))
    return (await pings()) === count + 1 ? count : undefined
  }, 'a second readiness answer')
  expect(await pings()).toBe(before + 1)
})

test('/metrics serves queue depths, write-buffer counters, the coalescing ratio and HTTP latency', async () => {
  await start({ FLUSH_INTERVAL_MS: '600000' })
  await harness.waitForFirstFlush()
  const key = harness.key('m')
  const writes = [3, 1, 2].map((version) => ({ entity: 'usage', key, version, value: { v: version } }))
  const { jobId } = (await app.inject({ method: 'POST', url: '/conductor/writes', headers: as('agent'), payload: { writes } })).json()
  await harness.outcome(harness.writeQueue, jobId)
  const response = await app.inject({ url: '/metrics' })
  expect(response.headers['content-type']).toMatch(/^text\/plain/)
  const metrics = response.body
  expect(metrics).toMatch(/^cyborg_queue_jobs\{queue="conductor-writes",state="completed"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_buffer_writes\{entity="usage",outcome="accepted"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_buffer_writes\{entity="usage",outcome="stale"\} 2$/m)
  expect(metrics).toMatch(/^cyborg_buffer_keys\{entity="usage",state="pending"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_write_coalescing_ratio\{entity="usage"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_buffer_writes\{entity="usage",outcome="back_pressured"\} 0$/m)
  expect(metrics).toMatch(/^cyborg_flush_failures\{entity="usage",count="total"\} 0$/m)
  expect(metrics).toMatch(/^cyborg_flush_backoff_seconds\{entity="usage"\} 0$/m)
  expect(metrics).toMatch(/^cyborg_http_request_duration_seconds_count\{method="POST",route="\/conductor\/writes",status="202"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_process_resident_memory_bytes \d+/m)
})

test('/docs serves Swagger UI and /docs/json the OpenAPI document built from the zod schemas', async () => {
  await start()
  const ui = await app.inject({ url: '/docs' })
  expect([200, 302]).toContain(ui.statusCode)
  const document = (await app.inject({ url: '/docs/json' })).json()
  expect(document.openapi).toBe('3.0.3')
  expect(Object.keys(document.paths)).toEqual(
    expect.arrayContaining([
      '/v2/device_profiles',
      '/v2/device_profiles/{id}',
      '/v2/accelerator_requests',
      '/v2/accelerator_requests/{uuid}',
      '/v2/devices',
      '/v2/deployables/{uuid}',
      '/v2/attributes',
      '/conductor/writes',
      '/conductor/inventory',
      '/readyz',
      '/metrics',
    ]),
  )
  expect(Object.keys(document.paths).some((path) => path.startsWith('/admin'))).toBe(false)
  const post = document.paths['/v2/device_profiles'].post
  expect(post.requestBody.content['application/json'].schema).toMatchObject({ type: 'array', minItems: 1, maxItems: 1 })
  expect(Object.keys(post.responses)).toContain('201')
})

test('rate limit per token: the request over RATE_LIMIT_MAX gets 429 with Retry-After; another token is not affected', async () => {
  await start({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/v2/device_profiles', headers: as('readerA') })).statusCode)
  expect(statuses).toEqual([200, 200, 200, 429])
  const limited = await app.inject({ url: '/v2/device_profiles', headers: as('readerA') })
  expect(fault(limited)).toEqual(expect.stringMatching(/^Rate limit exceeded, retry in/))
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
  expect((await app.inject({ url: '/v2/device_profiles', headers: as('readerB') })).statusCode).toBe(200)
  expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)
})

test('a body over HTTP_BODY_LIMIT_BYTES gets 413, a wrong content type 415', async () => {
  await start({ HTTP_BODY_LIMIT_BYTES: '1024' })
  const writes = Array.from({ length: 50 }, (_, i) => ({ entity: 'usage', key: harness.key(i), version: 1, value: { i } }))
  const large = await app.inject({ method: 'POST', url: '/conductor/writes', headers: as('agent'), payload: { writes } })
  expect(large.statusCode).toBe(413)
  expect(fault(large)).toMatch(/Request body is too large/)
  const text = await app.inject({
    method: 'POST',
    url: '/conductor/writes',
    headers: { ...as('agent'), 'content-type': 'application/xml' },
    payload: '<writes/>',
  })
  expect(text.statusCode).toBe(415)
})

test('a read the conductor does not answer within READ_TIMEOUT_MS gets 504 with what to check', async () => {
  await start({ READ_TIMEOUT_MS: '200' })
  await harness.stopConductor()
  const response = await app.inject({ url: '/v2/device_profiles', headers: as('readerA') })
  expect(response.statusCode).toBe(504)
  expect(fault(response)).toEqual('the conductor did not answer within READ_TIMEOUT_MS; try again, and check /readyz')
})

function nestedArrays(depth: number): unknown {
  let value: unknown = 0
  for (let level = 0; level < depth; level++) value = [value]
  return value
}
