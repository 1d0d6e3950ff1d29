import { expect, test } from 'vitest'
import { loadConfig } from '../src/config.ts'

test('every setting has a default for a conductor on localhost', () => {
  expect(loadConfig({})).toEqual({
    REDIS_URL: 'redis://127.0.0.1:6379',
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/cyborg',
    CONDUCTOR_PREFIX: 'cyborg',
    FLUSH_INTERVAL_MS: 1000,
    FLUSH_BATCH_MAX: 5000,
    FLUSH_TIMEOUT_MS: 30000,
    FLUSH_RETRY_MAX_MS: 30000,
    PENDING_MAX_KEYS: 100_000,
    JOB_LOCK_MS: 30000,
    WRITE_CONCURRENCY: 8,
    READ_CONCURRENCY: 32,
    READ_TIMEOUT_MS: 5000,
    WRITE_VALUE_MAX_BYTES: 65536,
    DEAD_LETTER_MAX: 10000,
    HTTP_BODY_LIMIT_BYTES: 16 * 1024 * 1024,
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

test.each([
  ['FLUSH_INTERVAL_MS', 'soon'],
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
