import { z } from 'zod'

/** Where FAULT_INJECT can kill a flush: before its transaction, inside it before COMMIT, after COMMIT before the release. */
export const flushFaultPoints = ['before-transaction', 'before-commit', 'after-commit'] as const
export type FlushFaultPoint = (typeof flushFaultPoints)[number]

const integer = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback)

/**
 * Every setting of the conductor, read once from the environment. README's "Configuration" section
 * documents each variable; keep the two in step.
 */
export const configSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/cyborg'),
  CONDUCTOR_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
    .default('cyborg'),
  // The "save out rate": how often pending writes are flushed, and how many rows one transaction carries.
  FLUSH_INTERVAL_MS: integer(10, 1000),
  FLUSH_BATCH_MAX: integer(1, 5000),
  // A flush transaction taking longer than this is rolled back and its batch retried by the next flush.
  FLUSH_TIMEOUT_MS: integer(100, 30000),
  // After a failed flush (PostgreSQL down) the next waits FLUSH_INTERVAL_MS, then twice as long each time, up to this.
  FLUSH_RETRY_MAX_MS: integer(10, 30000),
  // Most keys accepted and not yet flushed, per entity: past it, writes of new keys are refused (back-pressure).
  PENDING_MAX_KEYS: integer(1, 100_000),
  // How long a conductor holds a job; a crashed conductor's jobs are retried by another after at most about twice this.
  JOB_LOCK_MS: integer(1000, 30000),
  WRITE_CONCURRENCY: integer(1, 8),
  READ_CONCURRENCY: integer(1, 32),
  READ_TIMEOUT_MS: integer(1, 5000),
  // Writes above this size (the value's JSON) are refused: one agent must not fill Redis on its own.
  WRITE_VALUE_MAX_BYTES: integer(2, 65536),
  DEAD_LETTER_MAX: integer(1, 10000),
  // Large enough for a 10,000-write batch of usage metrics.
  HTTP_BODY_LIMIT_BYTES: integer(1024, 16 * 1024 * 1024),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: integer(0, 6666).pipe(z.number().max(65535)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Test-only: the fault suite makes a conductor kill itself at one point of its first flush.
  FAULT_INJECT: z.enum(flushFaultPoints).optional(),
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment; a bad value throws a ConfigError naming each variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
  const result = configSchema.safeParse(present)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0])
    return `${name}=${JSON.stringify(env[name])}: ${issue.message}`
  })
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
}
