import { Cluster } from 'ioredis'
import type { DurabilityMode } from '../config.ts'
import type { RedisConnection } from './connection.ts'

/** What a Redis server says of its persistence and eviction; null where it would not say (CONFIG disabled). */
export interface RedisPersistence {
  appendonly: boolean | null
  appendfsync: string | null
  maxmemoryPolicy: string | null
  /** Where it was read: CONFIG GET, or INFO on a managed Redis that disables CONFIG. */
  source: 'config' | 'info'
}

/** What the conductor runs with: its mode, what Redis said, and what a Redis host crash can cost. */
export interface DurabilityReport {
  mode: DurabilityMode
  appendfsync: string
  /** Acknowledged writes a crash of the Redis host can lose, in words (docs/operations.md, "Durability"). */
  lossWindow: string
}

/** Redis is set up so that it may drop acknowledged writes in a way the mode does not allow. */
export class DurabilityError extends Error {
  override name = 'DurabilityError'
}

/** Reads persistence and eviction settings: CONFIG GET, else INFO persistence and INFO memory. */
export async function readPersistence(redis: RedisConnection): Promise<RedisPersistence> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'appendonly', 'appendfsync', 'maxmemory-policy')) as string[]
    const settings = new Map<string, string>()
    for (let i = 0; i < reply.length; i += 2) settings.set(reply[i]!, reply[i + 1]!)
    return {
      appendonly: settings.has('appendonly') ? settings.get('appendonly') === 'yes' : null,
      appendfsync: settings.get('appendfsync') ?? null,
      maxmemoryPolicy: settings.get('maxmemory-policy') ?? null,
      source: 'config',
    }
  } catch {
    const info = parseInfo(`${await redis.info('persistence')}\n${await redis.info('memory')}`)
    return {
      appendonly: info.has('aof_enabled') ? info.get('aof_enabled') === '1' : null,
      appendfsync: null,
      maxmemoryPolicy: info.get('maxmemory_policy') ?? null,
      source: 'info',
    }
  }
}

/**
 * Checks every master (one server, or each master of a Redis Cluster) against the mode, and says what
 * the conductor runs with. Throws a DurabilityError on an evicting maxmemory-policy (Redis could drop
 * the pending buffer or a queue), and in `strict` mode unless every write is fsynced before Redis
 * answers (appendonly yes, appendfsync always), so an acknowledged write survives a Redis host crash.
 */
export async function checkDurability(redis: RedisConnection, mode: DurabilityMode): Promise<DurabilityReport> {
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis]
  const reports = await Promise.all(servers.map(async (server) => durabilityOf(await readPersistence(server), mode)))
  // The weakest server decides: an `everysec` master loses what `always` masters keep.
  return reports.find((report) => report.appendfsync !== 'always') ?? reports[0]!
}

/** The verdict on one server's settings. */
export function durabilityOf(persistence: RedisPersistence, mode: DurabilityMode): DurabilityReport {
  const { appendonly, appendfsync, maxmemoryPolicy, source } = persistence
  if (maxmemoryPolicy !== null && maxmemoryPolicy !== 'noeviction') {
    throw new DurabilityError(
      `Redis evicts keys (maxmemory-policy ${maxmemoryPolicy}): it could drop accepted writes or whole queues. ` +
        'Set maxmemory-policy noeviction (the conductor bounds its own memory, see docs/operations.md).',
    )
  }
  const fsync = appendonly === false ? 'no AOF' : (appendfsync ?? 'unknown')
  if (mode === 'strict' && !(appendonly === true && appendfsync === 'always')) {
    const seen = source === 'info' ? 'CONFIG is disabled, so appendfsync cannot be checked' : `appendonly ${appendonly ? 'yes' : 'no'}, appendfsync ${fsync}`
    throw new DurabilityError(
      `DURABILITY=strict needs every write fsynced before Redis answers (appendonly yes, appendfsync always); ${seen}. ` +
        'Configure Redis so, or run with DURABILITY=default and its stated loss window.',
    )
  }
  return { mode, appendfsync: fsync, lossWindow: lossWindowOf(appendonly, appendfsync) }
}

function lossWindowOf(appendonly: boolean | null, appendfsync: string | null): string {
  if (appendonly === false) return 'everything acknowledged since the last RDB snapshot (no AOF)'
  if (appendfsync === 'always') return 'none: every write is fsynced before it is acknowledged'
  if (appendfsync === 'everysec') return 'the writes acknowledged in the last 1 s, up to 2 s while fsync is slow (appendfsync everysec)'
  if (appendfsync === 'no') return 'the writes acknowledged since the kernel last flushed the AOF, typically up to 30 s (appendfsync no)'
  return 'unknown: Redis does not say how it persists (CONFIG disabled); ask its operator'
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}
