import { z } from 'zod'
import { projectRoles, roles, type ApiToken, type Role } from './api/access.ts'

/** Where FAULT_INJECT can kill a flush: before its transaction, inside it before COMMIT, after COMMIT before the release. */
export const flushFaultPoints = ['before-transaction', 'before-commit', 'after-commit'] as const
export type FlushFaultPoint = (typeof flushFaultPoints)[number]

const integer = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback)

const TOKEN_FORMAT = 'expected comma-separated token:role or token:role:project entries'

/**
 * API_TOKENS: `token:role[:project],...`. Tokens are at least 16 characters without ":" or ",";
 * service and reader tokens name their project, admin and agent tokens none. Problems are described
 * by position, never by the token itself.
 */
const apiTokens = z.string().transform((text, ctx): ApiToken[] => {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  const tokens: ApiToken[] = []
  entries.forEach((entry, index) => {
    const [token = '', role = '', project, ...rest] = entry.split(':')
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: ${message}` })
    if (rest.length > 0 || role === '') return problem(TOKEN_FORMAT)
    if (token.length < 16) return problem('the token must be at least 16 characters')
    if (!roles.includes(role as Role)) return problem(`unknown role ${JSON.stringify(role)}; roles: ${roles.join(', ')}`)
    const needsProject = projectRoles.includes(role as Role)
    if (needsProject && !project) return problem(`a ${role} token acts in one project: give token:${role}:<project>`)
    if (!needsProject && project !== undefined) return problem(`an ${role} token has no project`)
    if (tokens.some((other) => other.token === token)) return problem('the same token is listed twice')
    tokens.push({ token, role: role as Role, project: project ?? null })
  })
  return tokens
})

/** REDIS_CLUSTER_NODES: `host:port,...`, at least one node. */
const clusterNodes = z.string().transform((text, ctx): string[] => {
  const nodes = text.split(',').map((node) => node.trim()).filter((node) => node !== '')
  for (const node of nodes) {
    const port = Number(/^[^:\s]+:(\d+)$/.exec(node)?.[1])
    if (!(port >= 1 && port <= 65535)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(node)} is not host:port` })
  }
  return nodes
})

/** Variables whose values are secrets: a configuration error never shows them. */
const SECRET_VARIABLES = new Set(['API_TOKENS', 'API_COOKIE_SECRET'])

/**
 * Every setting of the conductor, read once from the environment. README's "Configuration" section
 * documents each variable; keep the two in step.
 */
export const configSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  // A Redis Cluster instead of REDIS_URL's server: some of its nodes, `host:port,...` (the rest are discovered).
  REDIS_CLUSTER_NODES: clusterNodes.default([]),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/cyborg'),
  CONDUCTOR_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
    .default('cyborg'),
  // The "save out rate": how often pending writes are flushed, and how many rows one transaction carries.
  FLUSH_INTERVAL_MS: integer(10, 1000),
  FLUSH_BATCH_MAX: integer(1, 5000),
  // The pending buffer is split by key hash into this many shards, each flushed by its own job, in parallel.
  FLUSH_SHARDS: integer(1, 1).pipe(z.number().max(256)),
  // A flush transaction taking longer than this is rolled back and its batch retried by the next flush.
  FLUSH_TIMEOUT_MS: integer(100, 30000),
  // After a failed flush (PostgreSQL down) the next waits FLUSH_INTERVAL_MS, then twice as long each time, up to this.
  FLUSH_RETRY_MAX_MS: integer(10, 30000),
  // Most keys accepted and not yet flushed, per entity: past it, writes of new keys are refused (back-pressure).
  PENDING_MAX_KEYS: integer(1, 100_000),
  // How long a conductor holds a job; a crashed conductor's jobs are retried by another after at most about twice this.
  JOB_LOCK_MS: integer(1000, 30000),
  WRITE_CONCURRENCY: integer(1, 8),
  INVENTORY_CONCURRENCY: integer(1, 4),
  COMMAND_CONCURRENCY: integer(1, 16),
  READ_CONCURRENCY: integer(1, 32),
  READ_TIMEOUT_MS: integer(1, 5000),
  // Writes above this size (the value's JSON) are refused: one agent must not fill Redis on its own.
  WRITE_VALUE_MAX_BYTES: integer(2, 65536),
  DEAD_LETTER_MAX: integer(1, 10000),
  // Large enough for a 10,000-write batch of usage metrics.
  HTTP_BODY_LIMIT_BYTES: integer(1024, 16 * 1024 * 1024),
  // Agents: a full inventory snapshot every AGENT_REPORT_INTERVAL_S, a usage batch every AGENT_USAGE_INTERVAL_S.
  AGENT_REPORT_INTERVAL_S: z.coerce.number().positive().default(60),
  AGENT_USAGE_INTERVAL_S: z.coerce.number().positive().default(5),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 30000),
  // Bearer tokens of the HTTP API and their roles; none: every authenticated endpoint answers 401.
  API_TOKENS: apiTokens.default([]),
  // Signs Bull Board's login cookie; without it, a random one per process (logins end with a restart).
  API_COOKIE_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  // Requests per token (or per address without one) in each window, shared by the conductors of a prefix.
  RATE_LIMIT_MAX: integer(1, 1200),
  RATE_LIMIT_WINDOW_MS: integer(100, 60000),
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
    return `${name}=${SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(env[name])}: ${issue.message}`
  })
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
}
