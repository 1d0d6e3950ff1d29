import { z } from 'zod'
import { PciWhitelist } from './drivers/pci/pci-whitelist.ts'
import { projectRoles, roles, type ApiToken, type Role } from './auth/access.ts'

/** Where FAULT_INJECT can kill a flush: before its transaction, inside it before COMMIT, after COMMIT before the release. */
export const flushFaultPoints = ['before-transaction', 'before-commit', 'after-commit'] as const
export type FlushFaultPoint = (typeof flushFaultPoints)[number]

/** DURABILITY: what an acknowledged write survives (src/redis/durability.ts checks Redis against it). */
export const durabilityModes = ['default', 'strict'] as const
export type DurabilityMode = (typeof durabilityModes)[number]

const integer = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback)

const TOKEN_FORMAT = 'expected comma-separated token:role, token:role:project or token:agent:host entries'

/**
 * API_TOKENS: `token:role[:project],...`. Tokens are at least 16 characters without ":" or ",";
 * service and reader tokens name their project, admin and operator tokens none; an agent token names
 * the host it reports for (`token:agent:<host>`), or none (any host: the format before hosts were bound).
 * Problems are described by position, never by the token itself.
 */
const apiTokens = z.string().transform((text, ctx): ApiToken[] => {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  const tokens: ApiToken[] = []
  for (const [index, entry] of entries.entries()) {
    const [token = '', role = '', scope, ...rest] = entry.split(':')
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: ${message}` })
    if (rest.length > 0 || role === '' || scope === '') {
      problem(TOKEN_FORMAT)
      continue
    }
    if (token.length < 16) {
      problem('the token must be at least 16 characters')
      continue
    }
    if (!roles.includes(role as Role)) {
      problem(`unknown role ${JSON.stringify(role)}; roles: ${roles.join(', ')}`)
      continue
    }
    const needsProject = projectRoles.includes(role as Role)
    if (needsProject && !scope) {
      problem(`a ${role} token acts in one project: give token:${role}:<project>`)
      continue
    }
    if (!needsProject && role !== 'agent' && scope !== undefined) {
      problem(`an ${role} token has no project`)
      continue
    }
    if (tokens.some((other) => other.token === token)) {
      problem('the same token is listed twice')
      continue
    }
    tokens.push({ token, role: role as Role, project: needsProject ? scope! : null, host: role === 'agent' ? (scope ?? null) : null })
  }
  return tokens
})

/** REDIS_CLUSTER_NODES: `host:port,...`, at least one node. */
const clusterNodes = z.string().transform((text, ctx): string[] => {
  const nodes = text
    .split(',')
    .map((node) => node.trim())
    .filter((node) => node !== '')
  for (const node of nodes) {
    const port = Number(/^[^:\s]+:(\d+)$/.exec(node)?.[1])
    if (!(port >= 1 && port <= 65535)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(node)} is not host:port` })
  }
  return nodes
})

/** PLACEMENT_NODE_NAMES: `host=nodename,...`, each host once. */
const nodeNames = z.string().transform((text, ctx): { host: string; nodename: string }[] => {
  const pairs = text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
  return pairs.flatMap((pair) => {
    const [host = '', nodename = '', ...rest] = pair.split('=').map((part) => part.trim())
    if (host === '' || nodename === '' || rest.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(pair)} is not host=nodename` })
      return []
    }
    return [{ host, nodename }]
  })
})

/** AGENT_DRIVERS: `name,...`; the agent checks the names against its drivers when it loads them. */
const driverNames = z.string().transform((text) => [
  ...new Set(
    text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  ),
])

/** PCI_PASSTHROUGH_WHITELIST: JSON, parsed and checked as Cyborg's whitelist.py does. */
const pciWhitelist = z.string().transform((text, ctx) => {
  try {
    return PciWhitelist.parse(text)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) })
    return z.NEVER
  }
})

/** Variables whose values are secrets: a configuration error never shows them. */
const SECRET_VARIABLES = new Set(['API_TOKENS', 'API_COOKIE_SECRET', 'KEYSTONE_PASSWORD', 'KEYSTONE_APPLICATION_CREDENTIAL_SECRET'])

/**
 * Every setting of the conductor, read once from the environment. docs/configuration.md documents
 * each variable (test/unit/configuration-doc.test.ts keeps the two in step).
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
  // Every call to PostgreSQL has a deadline, so a hung server gives errors, not waits without end:
  // opening a connection; one statement (server-side statement_timeout and a client-side read timeout);
  // a transaction left idle (the server ends the session).
  DB_CONNECT_TIMEOUT_MS: integer(100, 5000),
  DB_QUERY_TIMEOUT_MS: integer(100, 30000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(100, 60000),
  // A write of a key Redis has never seen waits at most this long for its stored version; then its job
  // is retried later and its worker slot serves writes of known keys meanwhile.
  READ_THROUGH_TIMEOUT_MS: integer(10, 10000),
  // A write job that meets a transient condition (back-pressure, PostgreSQL or Redis away) is retried,
  // backing off up to WRITE_RETRY_MAX_DELAY_MS, for at most WRITE_RETRY_HOURS; then its writes are dead-lettered.
  WRITE_RETRY_HOURS: z.coerce.number().positive().default(24),
  WRITE_RETRY_MAX_DELAY_MS: integer(10, 30000),
  // Most write jobs waiting (waiting, delayed) in the write queue: past it, intake answers 503 + Retry-After.
  WRITE_QUEUE_MAX_DEPTH: integer(1, 50_000),
  // Redis commands of request paths (cached reads, enqueueing, metrics, rate limits) fail after this: a hung Redis gives 503.
  REDIS_COMMAND_TIMEOUT_MS: integer(10, 2000),
  // SIGTERM: the process exits within this whatever its peers do (what is not flushed stays in Redis).
  SHUTDOWN_TIMEOUT_MS: integer(1000, 30000),
  // How long the result of a create sent with an Idempotency-Key or X-OpenStack-Request-ID is kept: a retry within it gets the first result.
  IDEMPOTENCY_TTL_S: integer(1, 86400),
  // What an acknowledged write survives: `default` states Redis's loss window (appendfsync everysec: about 1 s of
  // writes on a Redis host crash); `strict` refuses to start unless Redis fsyncs every write before it answers (appendfsync always).
  DURABILITY: z.enum(durabilityModes).default('default'),
  // Most keys accepted and not yet flushed, per entity: past it, writes of new keys are refused (back-pressure).
  PENDING_MAX_KEYS: integer(1, 100_000),
  // How long a conductor holds a job; a crashed conductor's jobs are retried by another after at most about twice this.
  JOB_LOCK_MS: integer(1000, 30000),
  WRITE_CONCURRENCY: integer(1, 32),
  INVENTORY_CONCURRENCY: integer(1, 4),
  // A host's inventory is applied in one transaction: one running longer is rolled back, and the host's next report tries again.
  INVENTORY_TIMEOUT_MS: integer(100, 60000),
  COMMAND_CONCURRENCY: integer(1, 16),
  READ_CONCURRENCY: integer(1, 32),
  READ_TIMEOUT_MS: integer(1, 5000),
  // Writes above this size (the value's JSON) are refused: one agent must not fill Redis on its own.
  WRITE_VALUE_MAX_BYTES: integer(2, 65536),
  // Largest lead of a write's or inventory report's version over the conductor's clock (ms): a version is a timestamp in ms or a sequence number.
  VERSION_MAX_AHEAD_MS: integer(1000, 3_600_000),
  // Most dead letters kept per entity and shard, each with its write's value (at most WRITE_VALUE_MAX_BYTES): how an operator recovers it.
  DEAD_LETTER_MAX: integer(1, 10000),
  // Largest job data (its JSON) a producer may add and a worker takes: the client refuses a larger job, a worker fails
  // one (a producer that bypasses the client) before parsing it, and keeps it without its data.
  JOB_MAX_BYTES: integer(1024, 16 * 1024 * 1024),
  // Finished jobs kept per queue, for Bull Board and producers reading a result (a job's own removeOnComplete/removeOnFail wins);
  // a kept job's data larger than JOB_KEPT_DATA_MAX_BYTES is replaced, once it finished, by its size.
  JOBS_KEEP_COMPLETED: integer(1, 1000),
  JOBS_KEEP_FAILED: integer(1, 1000),
  JOB_KEPT_DATA_MAX_BYTES: integer(0, 65536),
  // Most keys each read cache holds (the cache of each entity, over its shards, and of each view kind): past it the
  // least recently read are evicted. Pending and flushing writes are not cache: they are never evicted.
  CACHE_MAX_KEYS: integer(1, 500_000),
  // Large enough for a 10,000-write batch of usage metrics.
  HTTP_BODY_LIMIT_BYTES: integer(1024, 16 * 1024 * 1024),
  // Agents: a full inventory snapshot every AGENT_REPORT_INTERVAL_S, a usage batch every AGENT_USAGE_INTERVAL_S.
  AGENT_REPORT_INTERVAL_S: z.coerce.number().positive().default(60),
  AGENT_USAGE_INTERVAL_S: z.coerce.number().positive().default(5),
  // Agents: how long one waits for a conductor to serve its queues before warning that none does.
  AGENT_CONDUCTOR_WAIT_S: z.coerce.number().positive().default(10),
  // Agents: the accelerator drivers to load, comma-separated (fake, nvidia_gpu, pci, or Cyborg's fake_driver,
  // nvidia_gpu_driver, pci_driver); an unknown name stops the agent. docs/drivers.md describes each.
  AGENT_DRIVERS: driverNames.default(['fake']),
  // Agents: where sysfs is mounted; the PCI drivers read <SYSFS_ROOT>/bus/pci/devices. Tests point it at fixture trees.
  SYSFS_ROOT: z.string().min(1).default('/sys'),
  // Agents: the PCI devices the drivers may offer, as Cyborg's [pci] passthrough_whitelist: a JSON dict or list of
  // dicts with vendor_id, product_id, address (glob or regex dict) and the tags resource_class, device_type, vgpu_type.
  // Unset: the pci driver offers nothing and nvidia_gpu every NVIDIA GPU, as passthrough.
  PCI_PASSTHROUGH_WHITELIST: pciWhitelist.optional(),
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
  // Placement: each host's deployables are reported there as resource providers. Unset: no Placement sync at all.
  PLACEMENT_URL: z.url({ protocol: /^https?$/ }).optional(),
  // Hosts whose compute node provider (Nova's nodename) is not named like the Cyborg host: `host=nodename,...`.
  PLACEMENT_NODE_NAMES: nodeNames.default([]),
  PLACEMENT_TIMEOUT_MS: integer(100, 10000),
  PLACEMENT_SYNC_CONCURRENCY: integer(1, 8),
  // A host's sync is attempted this often (back-off doubling from 500 ms up to PLACEMENT_RETRY_MAX_MS); its next report tries again.
  PLACEMENT_SYNC_ATTEMPTS: integer(1, 12),
  PLACEMENT_RETRY_MAX_MS: integer(100, 30000),
  // Test-only: the fault suite makes a conductor kill itself at one point of its first flush.
  FAULT_INJECT: z.enum(flushFaultPoints).optional(),
  // Keystone's identity URL (`http://keystone:5000/v3`): X-Auth-Token is validated there; unset, API_TOKENS only.
  KEYSTONE_URL: z.url({ protocol: /^https?$/ }).optional(),
  // The conductor's service user (keystonemiddleware's [keystone_authtoken]), or an application credential below.
  KEYSTONE_USERNAME: z.string().min(1).optional(),
  KEYSTONE_PASSWORD: z.string().min(1).optional(),
  KEYSTONE_USER_DOMAIN_NAME: z.string().min(1).default('Default'),
  KEYSTONE_PROJECT_NAME: z.string().min(1).default('service'),
  KEYSTONE_PROJECT_DOMAIN_NAME: z.string().min(1).default('Default'),
  KEYSTONE_APPLICATION_CREDENTIAL_ID: z.string().min(1).optional(),
  KEYSTONE_APPLICATION_CREDENTIAL_SECRET: z.string().min(1).optional(),
  // Which catalog endpoints the conductor calls (Nova, Placement): interface and region.
  KEYSTONE_INTERFACE: z.enum(['public', 'internal', 'admin']).default('public'),
  KEYSTONE_REGION_NAME: z.string().min(1).optional(),
  // A Keystone call that takes longer is abandoned: the API answers 503, never waits on a hung Keystone.
  KEYSTONE_TIMEOUT_MS: integer(100, 5000),
  // How long a validated (or refused) token is trusted without asking Keystone again: a revoked token is refused within it.
  KEYSTONE_TOKEN_CACHE_S: integer(1, 300),
  // Nova's compute API (`http://nova:8774/v2.1`) for bind events; unset with KEYSTONE_URL: the catalog's `compute` entry.
  NOVA_URL: z.url({ protocol: /^https?$/ }).optional(),
  // A bind event Nova did not take is retried this many times, with exponential back-off from NOVA_EVENT_BACKOFF_MS.
  NOVA_EVENT_ATTEMPTS: integer(1, 15),
  NOVA_EVENT_BACKOFF_MS: integer(10, 2000),
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment; a bad value throws a ConfigError naming each variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
  const result = configSchema.safeParse(present)
  if (result.success) {
    const problem = keystoneProblem(result.data)
    if (problem) throw new ConfigError(`invalid configuration:\n  ${problem}`)
    return result.data
  }
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0])
    return `${name}=${SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(env[name])}: ${issue.message}`
  })
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
}

/** The service credentials KEYSTONE_URL needs: a user and password, or an application credential, not both. */
function keystoneProblem(config: Config): string | undefined {
  const password = config.KEYSTONE_USERNAME !== undefined || config.KEYSTONE_PASSWORD !== undefined
  const application = config.KEYSTONE_APPLICATION_CREDENTIAL_ID !== undefined || config.KEYSTONE_APPLICATION_CREDENTIAL_SECRET !== undefined
  if (config.KEYSTONE_URL === undefined) {
    if (password || application) return 'KEYSTONE_USERNAME/PASSWORD and KEYSTONE_APPLICATION_CREDENTIAL_* need KEYSTONE_URL'
    if (config.NOVA_URL !== undefined) return "NOVA_URL needs KEYSTONE_URL: bind events are sent with the service user's Keystone token"
    return undefined
  }
  if (password && application) return 'give KEYSTONE_USERNAME and KEYSTONE_PASSWORD, or KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, not both'
  if (application && !(config.KEYSTONE_APPLICATION_CREDENTIAL_ID && config.KEYSTONE_APPLICATION_CREDENTIAL_SECRET)) {
    return 'an application credential needs both KEYSTONE_APPLICATION_CREDENTIAL_ID and KEYSTONE_APPLICATION_CREDENTIAL_SECRET'
  }
  if (!application && !(config.KEYSTONE_USERNAME && config.KEYSTONE_PASSWORD)) {
    return "KEYSTONE_URL needs the conductor's service user: KEYSTONE_USERNAME and KEYSTONE_PASSWORD (or KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET)"
  }
  return undefined
}
