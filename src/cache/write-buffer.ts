import type { Redis } from 'ioredis'
import { entityKeys, type EntityKeys } from './keys.ts'
import type { LuaScripts } from './lua-scripts.ts'
import { rowsFromTriples, type DeadLetter, type VersionedRow } from './rows.ts'

export interface AcceptOutcome {
  accepted: number
  stale: number
  /** Writes of keys not pending, refused because PENDING_MAX_KEYS keys are unflushed (back-pressure). */
  refused: number
  /** Keys accepted and not yet flushed (pending and flushing entries) after this call. */
  unflushed: number
  /** Indexes of the writes whose key Redis knows nothing of: read PostgreSQL, then accept them again. */
  undecided: number[]
}

export interface TakenBatch {
  rows: VersionedRow[]
  /** Left by an earlier flush that failed or crashed, and taken again whole. */
  retried: boolean
}

/** Counters (since the buffer was created) and gauges of one entity's buffer; README's "Metrics" lists them. */
export interface BufferStats {
  accepted: number
  stale: number
  backPressured: number
  flushed: number
  deadLettered: number
  flushFailures: number
  flushFailureStreak: number
  flushBackoffMs: number
  pending: number
  flushing: number
}

export interface FlushFailure {
  /** Failures in a row, this one included. */
  streak: number
  /** How long scheduled flushes wait before the next attempt. */
  delayMs: number
}

/**
 * The pending-write buffer of each entity: accepts versioned writes, hands batches to the flush and
 * takes them back once committed. Every step is one Lua script, so concurrent workers and conductors
 * never interleave inside one.
 */
export class WriteBuffer {
  private readonly keysByEntity = new Map<string, EntityKeys>()

  constructor(
    private readonly redis: Redis,
    private readonly scripts: LuaScripts,
    private readonly prefix: string,
    private readonly pendingMaxKeys: number,
  ) {}

  keys(entity: string): EntityKeys {
    let keys = this.keysByEntity.get(entity)
    if (!keys) this.keysByEntity.set(entity, (keys = entityKeys(this.prefix, entity)))
    return keys
  }

  /**
   * Accepts the writes whose version is newer than anything known of their key. `storedVersions`
   * gives what PostgreSQL held for keys Redis knew nothing of (-1 for no row).
   */
  async accept(entity: string, writes: VersionedRow[], storedVersions?: Map<string, number>): Promise<AcceptOutcome> {
    const keys = this.keys(entity)
    const args = writes.flatMap((write) => [write.key, write.version, write.valueJson, storedVersions?.get(write.key) ?? ''])
    const reply = (await this.scripts.run(
      'accept',
      [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.cacheVersions, keys.stats],
      [this.pendingMaxKeys, ...args],
    )) as number[]
    const [accepted = 0, stale = 0, refused = 0, unflushed = 0, ...undecided] = reply
    return { accepted, stale, refused, unflushed, undecided }
  }

  /** Why writes of new keys are refused while `unflushed` keys wait for a flush; producers retry later. */
  describeBackPressure(unflushed: number): string {
    return `back-pressure: ${unflushed} keys accepted and not yet flushed to PostgreSQL, PENDING_MAX_KEYS is ${this.pendingMaxKeys}`
  }

  /** The back-pressure reason when the buffer is full, before a producer enqueues more; null while there is room. */
  async backPressure(entity: string): Promise<string | null> {
    const unflushed = await this.unflushedCount(entity)
    return unflushed >= this.pendingMaxKeys ? this.describeBackPressure(unflushed) : null
  }

  /** The next batch to flush, with the lease `token`; null while another flush holds the lease. */
  async takeBatch(entity: string, token: string, leaseMs: number, max: number): Promise<TakenBatch | null> {
    const keys = this.keys(entity)
    const reply = (await this.scripts.run(
      'takeBatch',
      [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues, keys.flushLock],
      [token, leaseMs, max],
    )) as [number, ...string[]] | null
    if (reply === null) return null
    const [retried, ...triples] = reply
    return { rows: rowsFromTriples(triples), retried: retried === 1 }
  }

  /** Releases a committed batch; false when the lease was lost (its new holder releases the batch). */
  async releaseBatch(entity: string, token: string, refused: DeadLetter[], deadLetterMax: number): Promise<boolean> {
    const keys = this.keys(entity)
    const reply = await this.scripts.run(
      'releaseBatch',
      [keys.flushingVersions, keys.flushingValues, keys.cacheVersions, keys.cacheValues, keys.flushLock, keys.stats, keys.deadLetters, keys.flushBackoff],
      [token, deadLetterMax, ...refused.flatMap((letter) => [letter.key, JSON.stringify(letter)])],
    )
    return reply !== -1
  }

  /**
   * Records a failed flush transaction: drops the lease (the batch stays for the retry) and backs
   * off, `firstDelayMs` doubled with each failure in a row, at most `maxDelayMs`.
   */
  async flushFailed(entity: string, token: string, firstDelayMs: number, maxDelayMs: number): Promise<FlushFailure> {
    const keys = this.keys(entity)
    const [streak, delayMs] = (await this.scripts.run('flushFailed', [keys.flushLock, keys.flushBackoff, keys.stats], [token, firstDelayMs, maxDelayMs])) as [
      number,
      number,
    ]
    return { streak, delayMs }
  }

  /** How long scheduled flushes still wait after a failure; 0 when they run. */
  async flushBackoffMs(entity: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys(entity).flushBackoff))
  }

  /** Drops every trace of the keys, pending or cached: their entity is gone. */
  async forget(entity: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return
    const k = this.keys(entity)
    await this.scripts.run('forget', [k.pendingVersions, k.pendingValues, k.flushingVersions, k.flushingValues, k.cacheVersions, k.cacheValues], keys)
  }

  /** Writes accepted and not yet released by a flush. */
  async unflushedCount(entity: string): Promise<number> {
    const stats = await this.stats(entity)
    return stats.pending + stats.flushing
  }

  async stats(entity: string): Promise<BufferStats> {
    const keys = this.keys(entity)
    const [counters, pending, flushing, backoffTtl] = (await this.redis
      .multi()
      .hgetall(keys.stats)
      .hlen(keys.pendingVersions)
      .hlen(keys.flushingVersions)
      .pttl(keys.flushBackoff)
      .exec())!.map(([error, value]) => {
      if (error) throw error
      return value
    }) as [Record<string, string>, number, number, number]
    const count = (name: string) => Number(counters[name] ?? 0)
    return {
      accepted: count('accepted'),
      stale: count('stale'),
      backPressured: count('backPressured'),
      flushed: count('flushed'),
      deadLettered: count('deadLettered'),
      flushFailures: count('flushFailures'),
      flushFailureStreak: count('flushFailureStreak'),
      flushBackoffMs: Math.max(0, backoffTtl),
      pending,
      flushing,
    }
  }

  /** The newest dead letters first. */
  async deadLetters(entity: string, limit: number): Promise<DeadLetter[]> {
    const records = await this.redis.lrange(this.keys(entity).deadLetters, 0, limit - 1)
    return records.map((record) => JSON.parse(record) as DeadLetter)
  }
}
