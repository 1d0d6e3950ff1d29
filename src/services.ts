import pg from 'pg'
import { parse } from 'pg-connection-string'
import { connectRedis, type RedisTarget } from './redis/connection.ts'

export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError'
}

const START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes --appendfsync everysec'
const START_POSTGRES = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'

/** Fails with a message that says how to start Redis (or which cluster nodes) when it does not answer PING. */
export async function checkRedis(target: RedisTarget): Promise<void> {
  const redis = connectRedis(target, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  // connect() rejects with "Connection is closed"; the cause comes as an error event.
  let cause: unknown
  redis.on('error', (error) => (cause = error))
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    const nodes = target.REDIS_CLUSTER_NODES
    if (nodes.length > 0) {
      throw new ServiceUnavailableError(
        `the Redis Cluster at REDIS_CLUSTER_NODES=${nodes.join(',')} does not answer (${describe(cause ?? error)}). ` +
          'Check that its nodes run in cluster mode and that all slots are assigned (`redis-cli --cluster check <node>`), ' +
          'or unset REDIS_CLUSTER_NODES to use REDIS_URL.',
      )
    }
    const url = target.REDIS_URL
    throw new ServiceUnavailableError(
      `Redis at ${redact(url)} does not answer (${describe(cause ?? error)}). Start one, for example:\n  ${START_REDIS}\n` +
        `or \`docker compose up -d redis\`, or set REDIS_URL.`,
    )
  } finally {
    redis.disconnect()
  }
}

/**
 * Fails with a message that says how to start PostgreSQL when the server does not accept a
 * connection (to its maintenance database: the conductor's own may not exist yet).
 */
export async function checkPostgres(url: string): Promise<void> {
  const client = maintenanceClient(url)
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    throw new ServiceUnavailableError(
      `PostgreSQL at ${redact(url)} does not answer (${describe(error)}). Start it, for example:\n  ${START_POSTGRES}\n` +
        `or \`docker compose up -d postgres\`, or set DATABASE_URL.`,
    )
  } finally {
    await client.end().catch(() => {})
  }
}

/** Creates the database DATABASE_URL names when the server does not have it yet. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = new URL(url).pathname.slice(1)
  const client = maintenanceClient(url)
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (rowCount) return false
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
    return true
  } finally {
    await client.end()
  }
}

/** A client of the server's maintenance database `postgres`, on the server DATABASE_URL names. */
export function maintenanceClient(url: string): pg.Client {
  return new pg.Client({ ...(parse(url) as pg.ClientConfig), database: 'postgres', connectionTimeoutMillis: 3000 })
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return code ?? message ?? String(error)
}
