import { expect, test } from 'vitest'
import { loadConfig } from '../../src/config.ts'

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
    DB_CONNECT_TIMEOUT_MS: 5000,
    DB_QUERY_TIMEOUT_MS: 30000,
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: 60000,
    READ_THROUGH_TIMEOUT_MS: 10000,
    WRITE_RETRY_HOURS: 24,
    WRITE_RETRY_MAX_DELAY_MS: 30000,
    WRITE_QUEUE_MAX_DEPTH: 50_000,
    REDIS_COMMAND_TIMEOUT_MS: 2000,
    SHUTDOWN_TIMEOUT_MS: 30000,
    IDEMPOTENCY_TTL_S: 86400,
    DURABILITY: 'default',
    PENDING_MAX_KEYS: 100_000,
    JOB_LOCK_MS: 30000,
    WRITE_CONCURRENCY: 32,
    INVENTORY_CONCURRENCY: 4,
    INVENTORY_TIMEOUT_MS: 60000,
    COMMAND_CONCURRENCY: 16,
    READ_CONCURRENCY: 32,
    READ_TIMEOUT_MS: 5000,
    WRITE_VALUE_MAX_BYTES: 65536,
    VERSION_MAX_AHEAD_MS: 3600000,
    DEAD_LETTER_MAX: 10000,
    JOB_MAX_BYTES: 16777216,
    JOBS_KEEP_COMPLETED: 1000,
    JOBS_KEEP_FAILED: 1000,
    JOB_KEPT_DATA_MAX_BYTES: 65536,
    CACHE_MAX_KEYS: 500000,
    HTTP_BODY_LIMIT_BYTES: 16 * 1024 * 1024,
    HTTP_REQUEST_TIMEOUT_MS: 30000,
    API_TOKENS: [],
    RATE_LIMIT_MAX: 1200,
    RATE_LIMIT_WINDOW_MS: 60000,
    AGENT_REPORT_INTERVAL_S: 60,
    AGENT_USAGE_INTERVAL_S: 5,
    AGENT_CONDUCTOR_WAIT_S: 10,
    AGENT_DRIVERS: ['fake'],
    SYSFS_ROOT: '/sys',
    HOST: '127.0.0.1',
    PORT: 6666,
    LOG_LEVEL: 'info',
    PLACEMENT_NODE_NAMES: [],
    PLACEMENT_TIMEOUT_MS: 10000,
    PLACEMENT_SYNC_CONCURRENCY: 8,
    PLACEMENT_SYNC_ATTEMPTS: 12,
    PLACEMENT_RETRY_MAX_MS: 30000,
    KEYSTONE_USER_DOMAIN_NAME: 'Default',
    KEYSTONE_PROJECT_NAME: 'service',
    KEYSTONE_PROJECT_DOMAIN_NAME: 'Default',
    KEYSTONE_INTERFACE: 'public',
    KEYSTONE_TIMEOUT_MS: 5000,
    KEYSTONE_TOKEN_CACHE_S: 300,
    NOVA_EVENT_ATTEMPTS: 15,
    NOVA_EVENT_BACKOFF_MS: 2000,
  })
})

test('PLACEMENT_NODE_NAMES maps hosts to nodenames; PLACEMENT_URL is an http(s) URL', () => {
  expect(loadConfig({ PLACEMENT_NODE_NAMES: 'compute-1=compute-1.example.org, gpu-2=gpu-2.lab' }).PLACEMENT_NODE_NAMES).toEqual([
    { host: 'compute-1', nodename: 'compute-1.example.org' },
    { host: 'gpu-2', nodename: 'gpu-2.lab' },
  ])
  expect(() => loadConfig({ PLACEMENT_NODE_NAMES: 'compute-1' })).toThrow(/PLACEMENT_NODE_NAMES="compute-1": "compute-1" is not host=nodename/)
  expect(() => loadConfig({ PLACEMENT_URL: 'ftp://placement' })).toThrow(/PLACEMENT_URL="ftp:\/\/placement"/)
  expect(loadConfig({ PLACEMENT_URL: 'http://controller:8778' }).PLACEMENT_URL).toBe('http://controller:8778')
})

test('KEYSTONE_URL needs the service credentials, a password or an application credential, not both; NOVA_URL needs KEYSTONE_URL', () => {
  const keystone = { KEYSTONE_URL: 'http://keystone:5000/v3' }
  expect(() => loadConfig(keystone)).toThrow(/KEYSTONE_URL needs the conductor's service user/)
  expect(loadConfig({ ...keystone, KEYSTONE_USERNAME: 'cyborg', KEYSTONE_PASSWORD: 'pw' }).KEYSTONE_PROJECT_NAME).toBe('service')
  expect(
    loadConfig({ ...keystone, KEYSTONE_APPLICATION_CREDENTIAL_ID: 'id', KEYSTONE_APPLICATION_CREDENTIAL_SECRET: 's' }).KEYSTONE_APPLICATION_CREDENTIAL_ID,
  ).toBe('id')
  expect(() => loadConfig({ ...keystone, KEYSTONE_APPLICATION_CREDENTIAL_ID: 'id' })).toThrow(
    /needs both KEYSTONE_APPLICATION_CREDENTIAL_ID and KEYSTONE_APPLICATION_CREDENTIAL_SECRET/,
  )
  expect(() =>
    loadConfig({
      ...keystone,
      KEYSTONE_USERNAME: 'u',
      KEYSTONE_PASSWORD: 'p',
      KEYSTONE_APPLICATION_CREDENTIAL_ID: 'id',
      KEYSTONE_APPLICATION_CREDENTIAL_SECRET: 's',
    }),
  ).toThrow(/not both/)
  expect(() => loadConfig({ KEYSTONE_USERNAME: 'u', KEYSTONE_PASSWORD: 'p' })).toThrow(/need KEYSTONE_URL/)
  expect(() => loadConfig({ NOVA_URL: 'http://nova:8774/v2.1' })).toThrow(/NOVA_URL needs KEYSTONE_URL/)
  // A secret is never shown in an error.
  let message = ''
  try {
    loadConfig({ KEYSTONE_URL: 'not a url', KEYSTONE_PASSWORD: 'hunter2-secret' })
  } catch (error) {
    message = (error as Error).message
  }
  expect(message).toMatch(/KEYSTONE_URL="not a url"/)
  expect(message).not.toMatch(/hunter2/)
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

test('API_TOKENS: token:role[:project] entries, service and reader tokens in a project, agent tokens bound to a host or not', () => {
  const admin = 'a'.repeat(16)
  const nova = 'n'.repeat(20)
  const gpu1 = 'g'.repeat(20)
  const fleet = 'f'.repeat(20)
  const watcher = 'w'.repeat(20)
  expect(loadConfig({ API_TOKENS: `${admin}:admin, ${nova}:service:project-1, ${gpu1}:agent:gpu-1, ${fleet}:agent, ${watcher}:operator` }).API_TOKENS).toEqual([
    { token: admin, role: 'admin', project: null, host: null },
    { token: nova, role: 'service', project: 'project-1', host: null },
    { token: gpu1, role: 'agent', project: null, host: 'gpu-1' },
    { token: fleet, role: 'agent', project: null, host: null },
    { token: watcher, role: 'operator', project: null, host: null },
  ])
})

test.each([
  ['short:admin', 'entry 1: the token must be at least 16 characters'],
  ['s3cr3t-s3cr3t-s3cr3t:root', 'entry 1: unknown role "root"; roles: admin, service, agent, reader, operator'],
  ['s3cr3t-s3cr3t-s3cr3t:reader', 'entry 1: a reader token acts in one project: give token:reader:<project>'],
  ['s3cr3t-s3cr3t-s3cr3t:operator:p1', 'entry 1: an operator token has no project'],
  ['s3cr3t-s3cr3t-s3cr3t:agent:', 'entry 1: expected comma-separated token:role, token:role:project or token:agent:host entries'],
  ['s3cr3t-s3cr3t-s3cr3t:admin,s3cr3t-s3cr3t-s3cr3t:admin', 'entry 2: the same token is listed twice'],
  ['s3cr3t-s3cr3t-s3cr3t', 'entry 1: expected comma-separated token:role, token:role:project or token:agent:host entries'],
])('a bad API_TOKENS stops start-up, and the message never shows a token: %s', (value, problem) => {
  expect(() => loadConfig({ API_TOKENS: value })).toThrow(`invalid configuration:\n  API_TOKENS=(hidden): ${problem}`)
  expect(() => loadConfig({ API_TOKENS: value })).not.toThrow(/s3cr3t/)
})

test('prisma.config.ts, which reads DATABASE_URL itself, migrates the database the conductor uses by default', async () => {
  const { DEFAULT_DATABASE_URL } = await import('../../prisma.config.ts')
  expect(DEFAULT_DATABASE_URL).toBe(loadConfig({}).DATABASE_URL)
})
