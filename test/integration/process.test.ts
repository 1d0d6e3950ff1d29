import { randomUUID } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import pg from 'pg'
import { afterEach, expect, test } from 'vitest'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { pendingMigrations } from '../../src/db/pending-migrations.ts'
import { redact } from '../../src/services.ts'
import { testTokens, type TokenName } from '../support/api.ts'
import { runEntry, type Child } from '../support/child.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness | undefined
let child: Child | undefined
afterEach(async () => {
  child?.process.kill('SIGKILL')
  await harness?.close()
  harness = undefined
})

test.each([
  [
    { REDIS_URL: 'redis://127.0.0.1:1' },
    /Redis at redis:\/\/127\.0\.0\.1:1 does not answer \(ECONNREFUSED\)\. Start one, for example:\n {2}redis-server --daemonize yes/,
  ],
  [
    { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/cyborg' },
    /PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/cyborg does not answer \(ECONNREFUSED\)\. Start it, for example:\n {2}pg_ctlcluster/,
  ],
  [{ FLUSH_INTERVAL_MS: 'often' }, /invalid configuration:\n {2}FLUSH_INTERVAL_MS="often": /],
])('start-up fails with a message that says what to do: %j', async (env, message) => {
  child = runEntry('dist/preflight.js', { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL, ...env })
  expect(await child.exited).toBe(1)
  expect(child.output()).toMatch(/^cannot start the conductor: /)
  expect(child.output()).toMatch(message)
})

test('preflight creates a missing database and applies the migrations; on a migrated database it skips Migrate', async () => {
  const name = `cyborg_preflight_${process.pid}_${Date.now()}`
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  const env = { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: url.toString() }
  child = runEntry('dist/preflight.js', env)
  try {
    expect(await child.exited).toBe(0)
    expect(child.output()).toContain(`created database`)
    expect(child.output()).toContain('applying migrations: ')
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    const { rows } = await client.query(`SELECT to_regclass('deployable_usages') AS usage_table`)
    expect(rows).toEqual([{ usage_table: 'deployable_usages' }])
    expect(await pendingMigrations(url.toString())).toEqual([])

    child = runEntry('dist/preflight.js', env)
    expect(await child.exited).toBe(0)
    expect(child.output()).toBe('')

    // A migration recorded with another checksum (its file changed since) is pending: Migrate decides.
    const [first] = await client
      .query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name LIMIT 1')
      .then((r) => r.rows)
    await client.query(`UPDATE _prisma_migrations SET checksum = 'changed' WHERE migration_name = $1`, [first!.migration_name])
    expect(await pendingMigrations(url.toString())).toEqual([first!.migration_name])
    await client.end()
  } finally {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
})

test('npm run agent: the agent process reports its host and stops on SIGTERM', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const host = harness.key('cli')
  child = runEntry(
    'dist/agent/main.js',
    {
      REDIS_URL: TEST_REDIS_URL,
      CONDUCTOR_PREFIX: harness.prefix,
      AGENT_USAGE_INTERVAL_S: '0.2',
      AGENT_REPORT_INTERVAL_S: '60',
      AGENT_CONDUCTOR_WAIT_S: '0.2',
    },
    ['--host', host],
  )
  await waitFor(async () => (await harness!.prisma.device.count({ where: { hostname: host } })) === 1, 'the agent’s host in PostgreSQL')
  await waitFor(async () => (await harness!.buffer.stats('usage')).accepted >= 2, 'two usage reports')
  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
  expect(child.output()).not.toContain('no conductor serves')
})

test('an agent whose queues no conductor serves warns after AGENT_CONDUCTOR_WAIT_S, naming its prefix and Redis, and says when one comes', async () => {
  const prefix = `t-${randomUUID().slice(0, 8)}-alone`
  child = runEntry('dist/agent/main.js', { REDIS_URL: TEST_REDIS_URL, CONDUCTOR_PREFIX: prefix, AGENT_CONDUCTOR_WAIT_S: '0.5' }, ['--host', `${prefix}-host`])
  const logLines = () =>
    child!
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
  const warning = await waitFor(() => logLines().find((line) => line.level === 40), 'the agent’s warning')
  expect(warning).toMatchObject({ prefix, redis: redact(TEST_REDIS_URL), queues: ['conductor-inventory', 'conductor-writes'] })
  expect(warning.msg).toBe(
    `no conductor serves this agent’s queues: after 0.5 s no worker takes jobs from conductor-inventory and conductor-writes with prefix ${prefix} ` +
      `on ${redact(TEST_REDIS_URL)}. Start a conductor there, or give the agent its CONDUCTOR_PREFIX and REDIS_URL.`,
  )
  harness = await startHarness({ CONDUCTOR_PREFIX: prefix })
  await waitFor(() => logLines().find((line) => line.msg === 'a conductor now takes this agent’s jobs'), 'the agent to see the conductor')
  expect(logLines().filter((line) => line.level === 40)).toHaveLength(1)
})

test('a port in use stops start-up with one line, before any worker takes a job', async () => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const { port } = blocker.address() as AddressInfo
  // A harness only for its prefix: the queues' keys the server made before it stopped are removed with it.
  harness = await startHarness({}, { start: false })
  try {
    child = runEntry('dist/server.js', {
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: TEST_DATABASE_URL,
      CONDUCTOR_PREFIX: harness.prefix,
      PORT: String(port),
    })
    expect(await child.exited).toBe(1)
  } finally {
    blocker.close()
  }
  const notLogLines = child
    .output()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{'))
  expect(notLogLines).toEqual([`cannot start the conductor: 127.0.0.1:${port} is already in use (another conductor?); stop it or set PORT`])
  expect(child.output()).not.toContain('conductor started')
})

test('a HOST that is not an address of this machine stops start-up with one line', async () => {
  // 192.0.2.1: TEST-NET-1, documentation only, never a local address.
  harness = await startHarness({}, { start: false })
  child = runEntry('dist/server.js', {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: harness.prefix,
    HOST: '192.0.2.1',
    PORT: '0',
  })
  expect(await child.exited).toBe(1)
  expect(
    child
      .output()
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('{')),
  ).toEqual(['cannot start the conductor: HOST=192.0.2.1 is not an address of this machine; set HOST'])
  expect(child.output()).not.toContain('conductor started')
})

test('npm run agent without --host says how to call it', async () => {
  child = runEntry('dist/agent/main.js', { REDIS_URL: TEST_REDIS_URL })
  expect(await child.exited).toBe(2)
  expect(child.output()).toContain('usage: npm run agent -- --host NAME')
})

test('the real server over plain HTTP: every resource, auth failures, other projects, malformed bodies, 423 and 406; no token in its log', async () => {
  harness = await startHarness({}, { start: false })
  const h = harness
  const { tokens, setting, projects } = testTokens(h.prefix)
  child = runEntry('dist/server.js', {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: h.prefix,
    FLUSH_INTERVAL_MS: '100',
    API_TOKENS: setting,
    LOG_LEVEL: 'debug',
    PORT: '0',
  })
  const base = await waitFor(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(child!.output())?.[1], 'the server to listen')

  const call = async (method: string, path: string, token?: TokenName, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${tokens[token].token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }
  }

  expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
  expect(await waitFor(async () => ((await call('GET', '/readyz')).status === 200 ? true : undefined), 'readiness')).toBe(true)

  // Intake: an inventory snapshot and usage writes from an agent token.
  const hostname = h.key('compute')
  const report = await call('POST', '/conductor/inventory', 'agent', { hostname, version: 1, devices: await new DummyDriver({ hostname }).discover() })
  expect(report).toMatchObject({ status: 202, body: { jobId: expect.any(String) } })
  const devices = await waitFor(async () => (await call('GET', `/v2/devices?hostname=${hostname}`, 'readerA')).body.devices[0], 'the reported device')
  expect((await call('GET', `/v2/devices/${devices.uuid}`, 'readerA')).body).toEqual(devices)
  expect((await call('GET', '/v2/deployables', 'readerA')).body.deployables.some((each: { name: string }) => each.name === `${hostname}_FakeDevice`)).toBe(true)
  expect((await call('GET', '/v2/attributes?key=rc', 'readerA')).status).toBe(200)
  const usageKey = h.key('usage')
  expect((await call('POST', '/conductor/writes', 'agent', { writes: [{ entity: 'usage', key: usageKey, version: 1, value: { in_use: 2 } }] })).status).toBe(
    202,
  )
  await waitFor(async () => (await call('GET', `/conductor/entities/usage/${usageKey}`, 'readerA')).status === 200, 'the usage read')

  // Device profiles and ARQs, as an admin and Nova (a service token) drive them.
  const profile = await call('POST', '/v2/device_profiles', 'admin', [{ name: h.key('fpga'), groups: [{ 'resources:FPGA': '1' }] }])
  expect(profile.status).toBe(201)
  expect((await call('GET', `/v2/device_profiles/${profile.body.name}`, 'readerA', undefined, { 'OpenStack-API-Version': 'accelerator 2.2' })).body).toEqual({
    device_profile: profile.body,
  })
  const created = await call('POST', '/v2/accelerator_requests', 'serviceA', { device_profile_name: profile.body.name })
  expect(created).toMatchObject({ status: 201, body: { arqs: [{ state: 'Initial', project_id: projects.A }] } })
  const arq = created.body.arqs[0]
  const instance = randomUUID()
  const bind = await call('PATCH', '/v2/accelerator_requests', 'serviceA', {
    [arq.uuid]: [
      { op: 'add', path: '/hostname', value: hostname },
      { op: 'add', path: '/device_rp_uuid', value: resourceProviderUuid(`${hostname}_FakeDevice`) },
      { op: 'add', path: '/instance_uuid', value: instance },
    ],
  })
  expect(bind.status).toBe(202)
  expect((await call('GET', `/v2/accelerator_requests?instance=${instance}&bind_state=resolved`, 'serviceA')).body).toMatchObject({
    arqs: [{ uuid: arq.uuid, state: 'Bound' }],
  })
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, 'readerA')).body).toMatchObject({ state: 'Bound', instance_uuid: instance })

  // 423 while binding, as a bind in progress leaves the ARQ.
  await h.prisma.extArq.update({ where: { uuid: arq.uuid }, data: { state: 'BindStarted' } })
  expect((await call('GET', `/v2/accelerator_requests?instance=${instance}&bind_state=resolved`, 'serviceA')).status).toBe(423)
  await h.prisma.extArq.update({ where: { uuid: arq.uuid }, data: { state: 'Bound' } })

  // 406, auth failures, another project, malformed and mistyped bodies.
  const outOfRange = await call('GET', '/v2/device_profiles', 'readerA', undefined, { 'OpenStack-API-Version': 'accelerator 2.7' })
  expect(outOfRange.status).toBe(406)
  expect([outOfRange.headers.get('openstack-api-minimum-version'), outOfRange.headers.get('openstack-api-maximum-version')]).toEqual(['2.0', '2.3'])
  expect((await call('POST', '/v2/accelerator_requests', undefined, { device_profile_name: profile.body.name })).status).toBe(401)
  expect((await call('GET', '/v2/device_profiles', undefined, undefined, { authorization: 'Bearer wrong-token-of-nobody' })).status).toBe(401)
  expect((await call('DELETE', `/v2/device_profiles/${profile.body.uuid}`, 'serviceA')).status).toBe(403)
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, 'readerB')).status).toBe(404)
  expect((await call('DELETE', `/v2/accelerator_requests?arqs=${arq.uuid}`, 'serviceB')).status).toBe(404)
  expect((await call('POST', '/v2/accelerator_requests', 'serviceA', '{"device_profile_name": ')).status).toBe(400)
  expect((await call('POST', '/v2/accelerator_requests', 'serviceA', { device_profile_name: 7 })).body).toEqual({
    error_message: JSON.stringify({
      faultcode: 'Client',
      faultstring: 'body is invalid: device_profile_name: Invalid input: expected string, received number',
      debuginfo: null,
    }),
  })

  // Operators: Bull Board's API with an admin bearer token, and the metrics the workers feed.
  const queues = await call('GET', '/admin/queues/api/queues', 'admin')
  expect(queues.status).toBe(200)
  expect((await call('GET', '/admin/queues/api/queues', 'serviceA')).status).toBe(403)
  await waitFor(async () => (await h.buffer.unflushedCount('usage')) === 0, 'the usage write to be flushed')
  const metrics = await (await fetch(`${base}/metrics`)).text()
  expect(metrics).toMatch(/^cyborg_jobs_processed_total\{queue="conductor-commands",name="arq.bind"\} 1$/m)
  expect(metrics).toMatch(/^cyborg_flush_batch_size_count\{entity="usage"\} [1-9]/m)
  expect(metrics).toMatch(/^cyborg_flush_duration_seconds_bucket\{le="\+Inf",entity="usage"\} [1-9]/m)

  // Clean-up through the API: delete by instance (Nova's way) and the profile.
  expect((await call('DELETE', `/v2/accelerator_requests?instance=${instance}`, 'serviceA')).status).toBe(204)
  expect((await call('DELETE', `/v2/device_profiles/${profile.body.uuid}`, 'admin')).status).toBe(204)

  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
  const log = child.output()
  expect(log).toContain('"statusCode":401')
  for (const { token } of Object.values(tokens)) expect(log).not.toContain(token)
})
