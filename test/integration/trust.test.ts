import type { FastifyInstance } from 'fastify'
import { expect, test } from 'vitest'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { deployableUuid } from '../../src/queues/contract/name-uuid.ts'
import { INVENTORY_REPORT_JOB, WRITE_BATCH_JOB } from '../../src/queues/contract/names.ts'
import { fault, useApi, type StartedApi } from '../support/api.ts'
import type { Harness } from '../support/harness.ts'

let harness: Harness
let app: FastifyInstance
let as: StartedApi['as']
let tokens: StartedApi['tokens']
const startApi = useApi()
const start = async (settings = {}) => ({ harness, app, as, tokens } = await startApi(settings))

const PINNING_VERSION = Number.MAX_SAFE_INTEGER
const usage = (key: string, version = Date.now()) => ({ entity: 'usage', key, version, value: { accelerators_in_use: 1 } })
const post = (url: string, headers: Record<string, string>, payload: object) => app.inject({ method: 'POST', url, headers, payload })

test('an agent token bound to a host reports its inventory and its deployables usage only: another host gets 403, usage before the inventory 409', async () => {
  await start()
  const host = tokens.hosts.A
  const other = harness.key('other-host')
  const devices = await new DummyDriver({ hostname: host }).discover()
  const own = deployableUuid(`${host}_FakeDevice`)

  const foreignInventory = await post('/conductor/inventory', as('agentA'), { hostname: other, version: 1, devices: [] })
  expect(foreignInventory.statusCode).toBe(403)
  expect(fault(foreignInventory)).toBe(`this agent token reports for host "${host}" only, not "${other}"`)

  const early = await post('/conductor/writes', as('agentA'), { writes: [usage(own)] })
  expect(early.statusCode).toBe(409)
  expect(fault(early)).toBe(`host "${host}" has no inventory the conductor knows yet: report it (POST /conductor/inventory), then its usage`)
  expect(Number(early.headers['retry-after'])).toBeGreaterThan(0)

  const inventory = await post('/conductor/inventory', as('agentA'), { hostname: host, version: 1, devices })
  expect(inventory.statusCode).toBe(202)
  expect(await harness.outcome(harness.inventoryQueue, inventory.json().jobId)).toMatchObject({ returnvalue: { applied: true } })

  const ownUsage = await post('/conductor/writes', as('agentA'), { writes: [usage(own)] })
  expect(ownUsage.statusCode).toBe(202)
  expect(await harness.outcome(harness.writeQueue, ownUsage.json().jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })

  const foreignKey = deployableUuid(`${other}_FakeDevice`)
  const foreignUsage = await post('/conductor/writes', as('agentA'), { writes: [usage(own), usage(foreignKey)] })
  expect(foreignUsage.statusCode).toBe(403)
  expect(fault(foreignUsage)).toBe(
    `this agent token reports for host "${host}" only, and 1 write(s) are not the usage of its deployables: writes.1.key "${foreignKey}"`,
  )
  // An agent token that names no host (API_TOKENS before hosts were bound) still reports for any.
  expect((await post('/conductor/inventory', as('agent'), { hostname: other, version: 1, devices: [] })).statusCode).toBe(202)
  expect((await post('/conductor/writes', as('agent'), { writes: [usage(foreignKey)] })).statusCode).toBe(202)
})

test('a version far beyond the clock cannot pin a key or a host: refused over HTTP (400) and through BullMQ (failed), an honest one is taken', async () => {
  await start({ VERSION_MAX_AHEAD_MS: '60000' })
  const key = harness.key('pinned')
  const pinned = await post('/conductor/writes', as('agent'), { writes: [usage(key, PINNING_VERSION)] })
  expect(pinned.statusCode).toBe(400)
  expect(fault(pinned)).toMatch(
    /^invalid write-batch: writes\.0\.version: 9007199254740991 is more than VERSION_MAX_AHEAD_MS \(60000 ms\) ahead of the conductor's clock \(\d+\): a version is a timestamp in ms or a sequence number$/,
  )
  const hostname = harness.key('pinned-host')
  const pinnedHost = await post('/conductor/inventory', as('agent'), { hostname, version: PINNING_VERSION, devices: [] })
  expect(pinnedHost.statusCode).toBe(400)
  expect(fault(pinnedHost)).toMatch(/^invalid inventory report: version: 9007199254740991 is more than VERSION_MAX_AHEAD_MS/)

  // Producers on Redis are checked by the worker alike.
  const job = await harness.writeQueue.add(WRITE_BATCH_JOB, { writes: [usage(key, PINNING_VERSION)] })
  expect((await harness.outcome(harness.writeQueue, job.id!)).failedReason).toMatch(
    /^invalid write-batch: none of its 1 writes is valid: writes\.0\.version: 9007199254740991 is more than VERSION_MAX_AHEAD_MS/,
  )
  const report = await harness.inventoryQueue.add(INVENTORY_REPORT_JOB, { hostname, version: PINNING_VERSION, devices: [] })
  expect((await harness.outcome(harness.inventoryQueue, report.id!)).failedReason).toMatch(
    /^invalid inventory report: version: 9007199254740991 is more than VERSION_MAX_AHEAD_MS/,
  )

  // A timestamp in ms a little ahead (clock skew) and a sequence number are honest versions.
  const skewed = await post('/conductor/writes', as('agent'), { writes: [usage(key, Date.now() + 30_000)] })
  expect(await harness.outcome(harness.writeQueue, skewed.json().jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
  const sequence = await post('/conductor/writes', as('agent'), { writes: [usage(harness.key('sequence'), 7)] })
  expect(await harness.outcome(harness.writeQueue, sequence.json().jobId)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })
})

test('rate limits: a fleet sharing one agent token is counted per host, a bad token per address', async () => {
  await start({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' })
  const from = (remoteAddress: string, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/conductor/inventory', remoteAddress, headers, payload: { hostname: `host-${remoteAddress}`, version: 1, devices: [] } })
  const statuses = async (remoteAddress: string, headers: Record<string, string>) => {
    const answers = []
    for (let i = 0; i < 3; i++) answers.push((await from(remoteAddress, headers)).statusCode)
    return answers
  }
  expect(await statuses('10.0.0.1', as('agent'))).toEqual([202, 202, 429])
  // Another host of the fleet, same token: its own budget.
  expect(await statuses('10.0.0.2', as('agent'))).toEqual([202, 202, 429])
  // Guessing tokens is counted too: the third bad token from one address gets 429, not another 401.
  expect(await statuses('10.0.0.3', { authorization: 'Bearer not-a-token-of-anyone' })).toEqual([401, 401, 429])
})

test('a bogus token on an open route is ignored; a route that needs a token still refuses it', async () => {
  await start()
  const bogus = { authorization: 'Bearer not-a-token-of-anyone' }
  for (const url of ['/healthz', '/readyz', '/metrics', '/v2', '/']) {
    const response = await app.inject({ url, headers: bogus })
    expect(response.statusCode, url).not.toBe(401)
    expect(response.statusCode, url).toBeLessThan(500)
  }
  expect((await app.inject({ url: '/healthz', headers: { authorization: 'Basic abc' } })).statusCode).toBe(200)
  const refused = await app.inject({ url: '/v2/device_profiles', headers: bogus })
  expect(refused.statusCode).toBe(401)
  expect(fault(refused)).toBe('the token is not valid: it is not one of API_TOKENS')
})

test('Bull Board: an operator token sees it read-only and cannot retry, clean or remove a scheduler; an admin keeps full control', async () => {
  await start()
  const failed = await harness.writeQueue.add(WRITE_BATCH_JOB, { writes: [] })
  expect((await harness.outcome(harness.writeQueue, failed.id!)).failedReason).toMatch(/^invalid write-batch/)
  const board = (method: 'GET' | 'PUT', url: string, name: 'operator' | 'admin' | 'readerA') => app.inject({ method, url, headers: as(name) })

  const readOnly = await board('GET', '/admin/queues-read-only/api/queues', 'operator')
  expect(readOnly.statusCode).toBe(200)
  const queues = readOnly.json().queues as { name: string; readOnlyMode: boolean }[]
  expect(queues.map((queue) => queue.name)).toContain('conductor-writes')
  expect(queues.every((queue) => queue.readOnlyMode)).toBe(true)
  for (const action of [`conductor-writes/${failed.id}/retry`, `conductor-writes/${failed.id}/clean`, 'conductor-flush/job-schedulers/any/remove']) {
    const refused = await board('PUT', `/admin/queues-read-only/api/queues/${action}`, 'operator')
    expect(refused.statusCode, action).toBe(405)
  }
  const full = await board('PUT', `/admin/queues/api/queues/conductor-writes/${failed.id}/retry`, 'operator')
  expect(full.statusCode).toBe(403)
  expect(full.json().message).toBe('an operator token may not do this (it needs the operate permission)')
  expect((await board('GET', '/admin/queues-read-only/api/queues', 'readerA')).statusCode).toBe(403)
  // An operator who opens the full board in a browser is sent to the read-only one.
  const page = await app.inject({ url: '/admin/queues', headers: { ...as('operator'), accept: 'text/html' } })
  expect(page.statusCode).toBe(302)
  expect(page.headers.location).toBe('/admin/queues-read-only')
  expect((await board('GET', '/conductor/dead-letters/usage', 'operator')).statusCode).toBe(200)

  expect((await board('GET', '/admin/queues/api/queues', 'admin')).json().queues.every((queue: { readOnlyMode: boolean }) => !queue.readOnlyMode)).toBe(true)
  expect((await board('PUT', `/admin/queues/api/queues/conductor-writes/${failed.id}/retry`, 'admin')).statusCode).toBe(204)
  expect(await harness.writeQueue.getJobState(failed.id!)).not.toBe('failed')
})
