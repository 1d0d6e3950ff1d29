import pg from 'pg'
import { afterEach, expect, test } from 'vitest'
import { runEntry, type Child } from './support/child.ts'
import { startHarness, type Harness } from './support/harness.ts'
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/services.ts'
import { waitFor } from './support/wait-for.ts'

let harness: Harness | undefined
let child: Child | undefined
afterEach(async () => {
  child?.process.kill('SIGKILL')
  await harness?.close()
  harness = undefined
})

test('SIGTERM stops taking jobs, flushes everything pending and exits 0', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '600000' }, { start: false })
  child = runEntry('src/server.ts', {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: harness.prefix,
    FLUSH_INTERVAL_MS: '600000',
    PORT: '0',
  })
  await waitFor(() => child!.output().includes('Server listening'), 'the conductor to listen')
  await harness.waitForFirstFlush()
  const writes = Array.from({ length: 500 }, (_, i) => ({ entity: 'usage', key: harness!.key(i), version: 1, value: { i } }))
  const jobId = await harness.client.castBatch(writes)
  expect(await harness.outcome(harness.writeQueue, jobId)).toEqual({ returnvalue: { accepted: 500, stale: 0 } })
  expect(await harness.buffer.unflushedCount('usage')).toBe(500)

  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
  expect(await harness.buffer.unflushedCount('usage')).toBe(0)
  expect((await harness.storedRows()).size).toBe(500)
  expect(child.output()).toContain('conductor stopped')
})

test.each([
  [{ REDIS_URL: 'redis://127.0.0.1:1' }, /Redis at redis:\/\/127\.0\.0\.1:1 does not answer \(ECONNREFUSED\)\. Start one, for example:\n  redis-server --daemonize yes/],
  [{ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/cyborg' }, /PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/cyborg does not answer \(ECONNREFUSED\)\. Start it, for example:\n  pg_ctlcluster/],
  [{ FLUSH_INTERVAL_MS: 'often' }, /invalid configuration:\n  FLUSH_INTERVAL_MS="often": /],
])('start-up fails with a message that says what to do: %j', async (env, message) => {
  child = runEntry('src/preflight.ts', { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL, ...env })
  expect(await child.exited).toBe(1)
  expect(child.output()).toMatch(/^cannot start the conductor: /)
  expect(child.output()).toMatch(message)
})

test('preflight creates a missing database and applies the migrations', async () => {
  const name = `cyborg_preflight_${process.pid}_${Date.now()}`
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  child = runEntry('src/preflight.ts', { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: url.toString(), PATH: `node_modules/.bin:${process.env.PATH}` })
  try {
    expect(await child.exited).toBe(0)
    expect(child.output()).toContain(`created database`)
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    const { rows } = await client.query(`SELECT to_regclass('deployable_usages') AS usage_table`)
    await client.end()
    expect(rows).toEqual([{ usage_table: 'deployable_usages' }])
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
  child = runEntry('src/agent/main.ts', {
    REDIS_URL: TEST_REDIS_URL,
    CONDUCTOR_PREFIX: harness.prefix,
    AGENT_USAGE_INTERVAL_S: '0.2',
    AGENT_REPORT_INTERVAL_S: '60',
  }, ['--host', host])
  await waitFor(async () => (await harness!.prisma.device.count({ where: { hostname: host } })) === 1, 'the agent’s host in PostgreSQL')
  await waitFor(async () => (await harness!.buffer.stats('usage')).accepted >= 2, 'two usage reports')
  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
})

test('npm run agent without --host says how to call it', async () => {
  child = runEntry('src/agent/main.ts', { REDIS_URL: TEST_REDIS_URL })
  expect(await child.exited).toBe(2)
  expect(child.output()).toContain('usage: npm run agent -- --host NAME')
})
