import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, expect, test } from 'vitest'
import { buildApi } from '../../src/conductor.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

test('one log line per request; the health, readiness and metrics probes at debug level', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({ write: (chunk, _encoding, done) => done(void lines.push(JSON.parse(String(chunk)))) })
  const app = await buildApi({ config: harness.config, connection: harness.redis, log: pino({ level: 'debug' }, sink) })
  try {
    for (const url of ['/healthz', '/readyz', '/metrics', '/v2/device_profiles', '/nowhere']) await app.inject({ method: 'GET', url })
  } finally {
    await app.close()
  }
  const requests = lines.filter((line) => line.reqId !== undefined)
  expect(requests.map(({ level, msg, method, url, statusCode }) => ({ level, msg, method, url, statusCode }))).toEqual([
    { level: 20, msg: 'request', method: 'GET', url: '/healthz', statusCode: 200 },
    { level: 20, msg: 'request', method: 'GET', url: '/readyz', statusCode: 200 },
    { level: 20, msg: 'request', method: 'GET', url: '/metrics', statusCode: 200 },
    { level: 30, msg: 'request', method: 'GET', url: '/v2/device_profiles', statusCode: 401 },
    { level: 30, msg: 'request', method: 'GET', url: '/nowhere', statusCode: 404 },
  ])
  for (const line of requests) expect(line.responseTimeMs).toEqual(expect.any(Number))
})
