/**
 * Redis keys of one entity's buffer and cache. They share one hash tag, so every Lua script that
 * touches several of them stays on one Redis Cluster slot.
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
  /** Lease of the flush that owns the flushing batch. */
  flushLock: string
  /** Set, with a time to live, after a failed flush: scheduled flushes wait until it expires. */
  flushBackoff: string
  /** Rows PostgreSQL refused on their own, newest first, each a JSON record with its reason. */
  deadLetters: string
  /** Counters (accepted, stale, backPressured, flushed, deadLettered, flushFailures) and the flushFailureStreak. */
  stats: string
}

export function entityKeys(prefix: string, entity: string): EntityKeys {
  const base = `${prefix}:{conductor:${entity}}`
  return {
    pendingVersions: `${base}:pending:versions`,
    pendingValues: `${base}:pending:values`,
    flushingVersions: `${base}:flushing:versions`,
    flushingValues: `${base}:flushing:values`,
    cacheVersions: `${base}:cache:versions`,
    cacheValues: `${base}:cache:values`,
    flushLock: `${base}:flush:lock`,
    flushBackoff: `${base}:flush:backoff`,
    deadLetters: `${base}:dead-letters`,
    stats: `${base}:stats`,
  }
}
