/**
 * Redis keys of one shard of an entity's buffer and cache. They share one hash tag, so every Lua
 * script that touches several of them stays on one Redis Cluster slot.
 */
export interface EntityKeys {
  /** Accepted writes not yet taken by a flush: key → version, key → value JSON. */
  pendingVersions: string
  pendingValues: string
  /** The batch a flush has taken and not yet released (kept across crashes for the retry). */
  flushingVersions: string
  flushingValues: string
  /** What PostgreSQL holds, as far as the conductor has seen: key → version, key → value JSON. */
  cacheVersions: string
  cacheValues: string
  /** Sorted set of the cached keys by last read or write (epoch ms): the coldest are evicted past CACHE_MAX_KEYS. */
  cacheAccess: string
  /** Lease of the flush that owns the flushing batch. */
  flushLock: string
  /** Set, with a time to live, after a failed flush: scheduled flushes wait until it expires. */
  flushBackoff: string
  /** Rows PostgreSQL refused on their own, newest first, each a JSON record with its reason. */
  deadLetters: string
  /** Counters (accepted, stale, backPressured, flushed, deadLettered, flushFailures) and the flushFailureStreak. */
  stats: string
}

/**
 * The keys of `shard` of `entity`. The prefix holds no braces (CONDUCTOR_PREFIX allows none), so the
 * `{conductor:<entity>[:<shard>]}` tag decides the Redis Cluster slot. Shard 0 keeps the tag of the
 * unsharded buffer, so writes pending from before sharding are still flushed.
 */
export function entityKeys(prefix: string, entity: string, shard: number): EntityKeys {
  const base = `${prefix}:{conductor:${entity}${shard === 0 ? '' : `:${shard}`}}`
  return {
    pendingVersions: `${base}:pending:versions`,
    pendingValues: `${base}:pending:values`,
    flushingVersions: `${base}:flushing:versions`,
    flushingValues: `${base}:flushing:values`,
    cacheVersions: `${base}:cache:versions`,
    cacheValues: `${base}:cache:values`,
    cacheAccess: `${base}:cache:access`,
    flushLock: `${base}:flush:lock`,
    flushBackoff: `${base}:flush:backoff`,
    deadLetters: `${base}:dead-letters`,
    stats: `${base}:stats`,
  }
}

/** When each shard's flush job last ran, `<entity>:<shard>` → epoch ms: readiness sees a flush that stopped running. */
export const flushRunsKey = (prefix: string) => `${prefix}:conductor:flush-runs`

/** Where the conductors of a prefix record the FLUSH_SHARDS they split the buffer into. */
export const flushShardsKey = (prefix: string) => `${prefix}:conductor:flush-shards`

/**
 * The shard of a key: FNV-1a (32 bits) of its UTF-8 bytes, modulo the shard count. Stable across
 * processes and languages, so every conductor puts one key in the same shard.
 */
export function shardOf(key: string, shards: number): number {
  if (shards === 1) return 0
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % shards
}
