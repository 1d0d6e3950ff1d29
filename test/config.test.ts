import { expect, test } from 'vitest'
import { loadConfig } from '../src/config.ts'

test('every setting has a default for a conductor on localhost', () => {
  expect(loadConfig({})).toEqual({
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_CLUSTER_NODES: [],
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/cyborg',
    CONDUCTOR_PREFIX: 'cyborg',
    FLUSH_INTERVAL_MS: 1000,
    FLUSH_BATCH_MAX: 5000,
    FLUSH_SHARDS: 1,
    FLUSH_TIMEOUT_MS: 30000,
    FLUSH_RETRY_MAX_MS: 30000,
    PENDING_MAX_KEYS: 100_000,
    JOB_LOCK_MS: 30000,
    WRITE_CONCURRENCY: 8,
    INVENTORY_CONCURRENCY: 4,
    COMMAND_CONCURRENCY: 16,
    READ_CONCURRENCY: 32,
    READ_TIMEOUT_MS: 5000,
    WRITE_VALUE_MAX_BYTES: 65536,
    DEAD_LETTER_MAX: 10000,
    HTTP_BODY_LIMIT_BYTES: 16 * 1024 * 1024,
    HTTP_REQUEST_TIMEOUT_MS: 30000,
    API_TOKENS: [],
    RATE_LIMIT_MAX: 1200,
    RATE_LIMIT_WINDOW_MS: 60000,
    AGENT_REPORT_INTERVAL_S: 60,
    AGENT_USAGE_INTERVAL_S: 5,
    HOST: '127.0.0.1',
    PORT: 6666,
    LOG_LEVEL: 'info',
  })
})

test('FAULT_INJECT, for the fault suite only, names a point of the flush', () => {
  expect(loadConfig({}).FAULT_INJECT).toBeUndefined()
  expect(loadConfig({ FAULT_INJECT: 'after-commit' }).FAULT_INJECT).toBe('after-commit')
})

test('values are read from the environment', () => {
  const config = loadConfig({ FLUSH_INTERVAL_MS: '250', FLUSH_BATCH_MAX: '100', CONDUCTOR_PREFIX: 'edge-1', PORT: '0' })
  expect(config).toMatchObject({ FLUSH_INTERVAL_MS: 250, FLUSH_BATCH_MAX: 100, CONDUCTOR_PREFIX: 'edge-1', PORT: 0 })
})

test('REDIS_CLUSTER_NODES: a comma-separated list of host:port', () => {
  expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001' }).REDIS_CLUSTER_NODES).toEqual(['redis-1:7000', '10.0.0.2:7001'])
})

test.each([
  ['FLUSH_INTERVAL_MS', 'soon'],
  ['FLUSH_SHARDS', '0'],
  ['FLUSH_SHARDS', '257'],
  ['REDIS_CLUSTER_NODES', 'redis-1'],
  ['REDIS_CLUSTER_NODES', 'redis-1:7000,redis-2:port'],
  ['FLUSH_BATCH_MAX', '0'],
  ['WRITE_CONCURRENCY', '2.5'],
  ['PORT', '70000'],
  ['REDIS_URL', 'http://127.0.0.1:6379'],
  ['DATABASE_URL', 'not a url'],
  ['CONDUCTOR_PREFIX', 'has space'],
  ['LOG_LEVEL', 'loud'],
  ['PENDING_MAX_KEYS', '0'],
  ['JOB_LOCK_MS', '100'],
  ['FAULT_INJECT', 'sometimes'],
])('a bad %s stops start-up with a message naming it', (name, value) => {
  expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}=${JSON.stringify(value)}: `))
})

test('API_TOKENS: token:role[:project] entries, service and reader tokens in a project', () => {
  const admin = 'a'.repeat(16)
  const nova = 'n'.repeat(20)
  expect(loadConfig({ API_TOKENS: `${admin}:admin, ${nova}:service:project-1` }).API_TOKENS).toEqual([
    { token: admin, role: 'admin', project: null },
    { token: nova, role: 'service', project: 'project-1' },
  ])
})

test.each([
  ['short:admin', 'entry 1: the token must be at least 16 characters'],
  ['s3cr3t-s3cr3t-s3cr3t:root', 'entry 1: unknown role "root"; roles: admin, service, agent, reader'],
  ['s3cr3t-s3cr3t-s3cr3t:reader', 'entry 1: a reader token acts in one project: give token:reader:<project>'],
  ['s3cr3t-s3cr3t-s3cr3t:agent:p1', 'entry 1: an agent token has no project'],
  ['s3cr3t-s3cr3t-s3cr3t:admin,s3cr3t-s3cr3t-s3cr3t:admin', 'entry 2: the same token is listed twice'],
  ['s3cr3t-s3cr3t-s3cr3t', 'entry 1: expected comma-separated token:role or token:role:project entries'],
])('a bad API_TOKENS stops start-up, and the message never shows a token: %s', (value, problem) => {
  expect(() => loadConfig({ API_TOKENS: value })).toThrow(`invalid configuration:\n  API_TOKENS=(hidden): ${problem}`)
  expect(() => loadConfig({ API_TOKENS: value })).not.toThrow(/s3cr3t/)
})
