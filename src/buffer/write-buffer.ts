import type { RedisConnection } from '../redis/connection.ts'
import { entityKeys, flushRunsKey, flushShardsKey, shardOf, type EntityKeys } from './keys.ts'
import type { LuaScripts } from '../redis/lua-scripts.ts'
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

/** What the accept script answered, one character per write in the order given (accept-5.lua): 'a', 's', 'r' or 'u'. */
export interface AcceptReply {
  outcomes: string
  /** The fullest shard's unflushed keys after the call. */
  unflushed: number
}

/** The outcome of the writes `start` to `end` (exclusive) of a reply; undecided indexes count from `start`. */
export function outcomeOf(reply: AcceptReply, start = 0, end = reply.outcomes.length): AcceptOutcome {
  const outcome: AcceptOutcome = { accepted: 0, stale: 0, refused: 0, unflushed: reply.unflushed, undecided: [] }
  for (let index = start; index < end; index++) {
    switch (reply.outcomes.charCodeAt(index)) {
      case ACCEPTED:
        outcome.accepted++
        break
      case STALE:
        outcome.stale++
        break
      case REFUSED:
        outcome.refused++
        break
      default:
        outcome.undecided.push(index - start)
    }
  }
  return outcome
}

const ACCEPTED = 'a'.charCodeAt(0)
const STALE = 's'.charCodeAt(0)
const REFUSED = 'r'.charCodeAt(0)

export interface TakenBatch {
  rows: VersionedRow[]
  /** Left by an earlier flush that failed or crashed, and taken again whole. */
  retried: boolean
}

/**
 * Counters (since the buffer was created) and gauges of one entity's buffer, summed over its shards
 * (the failure streak and back-off: the longest of any shard); docs/operations.md lists them.
 */
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

/** A conductor started with a FLUSH_SHARDS that would strand writes pending in the recorded shards. */
export class ShardCountError extends Error {
  override name = 'ShardCountError'
}

/**
 * The pending-write buffer of each entity, split by key hash into shards: accepts versioned writes,
 * hands a shard's batches to its flush and takes them back once committed. Every step is one Lua
 * script on one shard, so concurrent workers and conductors never interleave inside one.
 */
export class WriteBuffer {
  private readonly keysByShard = new Map<string, EntityKeys>()
  /** Most unflushed keys of one shard: PENDING_MAX_KEYS spread over the shards. */
  private readonly shardMaxKeys: number
  /** Most cached keys of one shard: CACHE_MAX_KEYS spread over the shards. */
  readonly shardCacheMaxKeys: number

  constructor(
    private readonly redis: RedisConnection,
    private readonly scripts: LuaScripts,
    private readonly prefix: string,
    private readonly pendingMaxKeys: number,
    readonly shards: number,
    private readonly cacheMaxKeys: number,
  ) {
    this.shardMaxKeys = Math.ceil(pendingMaxKeys / shards)
    this.shardCacheMaxKeys = Math.ceil(cacheMaxKeys / shards)
  }

  keys(entity: string, shard: number): EntityKeys {
    const id = `${entity}:${shard}`
    let keys = this.keysByShard.get(id)
    if (!keys) this.keysByShard.set(id, (keys = entityKeys(this.prefix, entity, shard)))
    return keys
  }

  /** The keys of every shard of the entity. */
  allKeys(entity: string): EntityKeys[] {
    return Array.from({ length: this.shards }, (_, shard) => this.keys(entity, shard))
  }

  shardOf(key: string): number {
    return shardOf(key, this.shards)
  }

  /** The items grouped by the shard of their key. */
  byShard<T>(items: T[], keyOf: (item: T) => string): Map<number, T[]> {
    const groups = new Map<number, T[]>()
    for (const item of items) {
      const shard = this.shardOf(keyOf(item))
      const group = groups.get(shard)
      if (group) group.push(item)
      else groups.set(shard, [item])
    }
    return groups
  }

  /**
   * Accepts the writes whose version is newer than anything known of their key, one script call per
   * shard. `storedVersions` gives what PostgreSQL held for keys Redis knew nothing of (-1 for no row).
   */
  async accept(entity: string, writes: VersionedRow[], storedVersions?: Map<string, number>): Promise<AcceptOutcome> {
    return outcomeOf(await this.acceptEach(entity, writes, storedVersions))
  }

  /** `accept`, answering each write's outcome; `unflushed` is the fullest shard's count. */
  async acceptEach(entity: string, writes: VersionedRow[], storedVersions?: Map<string, number>): Promise<AcceptReply> {
    if (this.shards === 1) {
      const [unflushed, outcomes] = (await this.scripts.runPacked('accept', this.acceptArguments(entity, 0, writes, storedVersions))) as [number, string]
      return { outcomes, unflushed }
    }
    const byShard = this.byShard(Array.from(writes.keys()), (index) => writes[index]!.key)
    const outcomes = new Array<string>(writes.length)
    let unflushed = 0
    await Promise.all(
      Array.from(byShard, async ([shard, indexes]) => {
        const keysAndArgs = this.acceptArguments(
          entity,
          shard,
          indexes.map((index) => writes[index]!),
          storedVersions,
        )
        const [shardUnflushed, shardOutcomes] = (await this.scripts.runPacked('accept', keysAndArgs)) as [number, string]
        unflushed = Math.max(unflushed, shardUnflushed)
        for (let i = 0; i < indexes.length; i++) outcomes[indexes[i]!] = shardOutcomes[i]!
      }),
    )
    return { outcomes: outcomes.join(''), unflushed }
  }

  /** One shard's accept script call in one array, built once: its five keys, the limit, then four per write. */
  private acceptArguments(entity: string, shard: number, writes: VersionedRow[], storedVersions?: Map<string, number>): (string | number)[] {
    const keys = this.keys(entity, shard)
    const keysAndArgs: (string | number)[] = [
      keys.pendingVersions,
      keys.pendingValues,
      keys.flushingVersions,
      keys.cacheVersions,
      keys.stats,
      this.shardMaxKeys,
    ]
    for (const write of writes) keysAndArgs.push(write.key, write.version, write.valueJson, storedVersions?.get(write.key) ?? '')
    return keysAndArgs
  }

  /** Why writes of new keys are refused while `unflushed` keys of their shard wait for a flush; producers retry later. */
  describeBackPressure(unflushed: number): string {
    const limit = this.shards === 1 ? '' : ` in their shard, which holds at most ${this.shardMaxKeys} (FLUSH_SHARDS is ${this.shards})`
    return `back-pressure: ${unflushed} keys accepted and not yet flushed to PostgreSQL${limit}, PENDING_MAX_KEYS is ${this.pendingMaxKeys}`
  }

  /** The back-pressure reason when the buffer is full, before a producer enqueues more; null while there is room. */
  async backPressure(entity: string): Promise<string | null> {
    const unflushed = await this.unflushedCount(entity)
    return unflushed >= this.pendingMaxKeys ? this.describeBackPressure(unflushed) : null
  }

  /** The next batch of the shard to flush, with the lease `token`; null while another flush holds the shard's lease. */
  async takeBatch(entity: string, shard: number, token: string, leaseMs: number, max: number): Promise<TakenBatch | null> {
    const keys = this.keys(entity, shard)
    const reply = (await this.scripts.run(
      'takeBatch',
      [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues, keys.flushLock],
      [token, leaseMs, max],
    )) as [number, ...string[]] | null
    if (reply === null) return null
    const [retried, ...triples] = reply
    return { rows: rowsFromTriples(triples), retried: retried === 1 }
  }

  /** Releases a shard's committed batch; false when the lease was lost (its new holder releases the batch). */
  async releaseBatch(entity: string, shard: number, token: string, refused: DeadLetter[], deadLetterMax: number): Promise<boolean> {
    const keys = this.keys(entity, shard)
    const reply = await this.scripts.run(
      'releaseBatch',
      [
        keys.flushingVersions,
        keys.flushingValues,
        keys.cacheVersions,
        keys.cacheValues,
        keys.flushLock,
        keys.stats,
        keys.deadLetters,
        keys.flushBackoff,
        keys.cacheAccess,
      ],
      [token, deadLetterMax, this.shardCacheMaxKeys, Date.now(), ...refused.flatMap((letter) => [letter.key, JSON.stringify(letter)])],
    )
    return reply !== -1
  }

  /**
   * Records a failed flush transaction of a shard: drops the lease (the batch stays for the retry)
   * and backs off, `firstDelayMs` doubled with each failure in a row, at most `maxDelayMs`.
   */
  async flushFailed(entity: string, shard: number, token: string, firstDelayMs: number, maxDelayMs: number): Promise<FlushFailure> {
    const keys = this.keys(entity, shard)
    const [streak, delayMs] = (await this.scripts.run('flushFailed', [keys.flushLock, keys.flushBackoff, keys.stats], [token, firstDelayMs, maxDelayMs])) as [
      number,
      number,
    ]
    return { streak, delayMs }
  }

  /**
   * Dead-letters writes that could not be accepted in time (their job retried for WRITE_RETRY_HOURS),
   * with their values, beside the rows PostgreSQL refused: operators read both from the same list.
   */
  async deadLetter(letters: DeadLetter[], deadLetterMax: number): Promise<void> {
    const byEntity = new Map<string, DeadLetter[]>()
    for (const letter of letters) byEntity.set(letter.entity, [...(byEntity.get(letter.entity) ?? []), letter])
    await Promise.all(
      [...byEntity].flatMap(([entity, group]) =>
        [...this.byShard(group, (letter) => letter.key)].map(async ([shard, shardLetters]) => {
          const keys = this.keys(entity, shard)
          const replies = await this.redis
            .multi()
            .lpush(keys.deadLetters, ...shardLetters.map((letter) => JSON.stringify(letter)))
            .ltrim(keys.deadLetters, 0, deadLetterMax - 1)
            .hincrby(keys.stats, 'deadLettered', shardLetters.length)
            .exec()
          const failed = replies?.find(([error]) => error)
          if (!replies || failed) throw failed?.[0] ?? new Error('dead-lettering was discarded by Redis')
        }),
      ),
    )
  }

  /** Records that a flush job of the shard runs now (whatever its outcome): its scheduler is alive. */
  async recordFlushRun(entity: string, shard: number): Promise<void> {
    await this.redis.hset(flushRunsKey(this.prefix), `${entity}:${shard}`, Date.now())
  }

  /** The shards of the entities whose flush job has not run for `staleMs` (or never), as `<entity> shard <n>`. */
  async staleFlushes(entities: readonly string[], staleMs: number): Promise<string[]> {
    const runs = await this.redis.hgetall(flushRunsKey(this.prefix))
    const now = Date.now()
    return entities.flatMap((entity) =>
      Array.from({ length: this.shards }, (_, shard) => shard).flatMap((shard) => {
        const last = Number(runs[`${entity}:${shard}`] ?? 0)
        return now - last > staleMs ? [`${entity} shard ${shard} ${last ? `last ran ${Math.round((now - last) / 1000)} s ago` : 'never ran'}`] : []
      }),
    )
  }

  /** How long scheduled flushes of the shard still wait after a failure; 0 when they run. */
  async flushBackoffMs(entity: string, shard: number): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys(entity, shard).flushBackoff))
  }

  /** Drops every trace of the keys, pending or cached: their entity is gone. */
  async forget(entity: string, keys: string[]): Promise<void> {
    await Promise.all(
      [...this.byShard(keys, (key) => key)].map(([shard, group]) => {
        const k = this.keys(entity, shard)
        return this.scripts.run(
          'forget',
          [k.pendingVersions, k.pendingValues, k.flushingVersions, k.flushingValues, k.cacheVersions, k.cacheValues, k.cacheAccess],
          group,
        )
      }),
    )
  }

  /** Writes accepted and not yet released by a flush, in every shard or in one. */
  async unflushedCount(entity: string, shard?: number): Promise<number> {
    const stats = shard === undefined ? await this.stats(entity) : await this.shardStats(this.keys(entity, shard))
    return stats.pending + stats.flushing
  }

  async stats(entity: string): Promise<BufferStats> {
    const shards = await Promise.all(this.allKeys(entity).map((keys) => this.shardStats(keys)))
    const sum = (name: keyof BufferStats) => shards.reduce((total, shard) => total + shard[name], 0)
    const longest = (name: keyof BufferStats) => Math.max(...shards.map((shard) => shard[name]))
    return {
      accepted: sum('accepted'),
      stale: sum('stale'),
      backPressured: sum('backPressured'),
      flushed: sum('flushed'),
      deadLettered: sum('deadLettered'),
      flushFailures: sum('flushFailures'),
      flushFailureStreak: longest('flushFailureStreak'),
      flushBackoffMs: longest('flushBackoffMs'),
      pending: sum('pending'),
      flushing: sum('flushing'),
    }
  }

  /** The newest dead letters first, from every shard. */
  async deadLetters(entity: string, limit: number): Promise<DeadLetter[]> {
    const lists = await Promise.all(this.allKeys(entity).map((keys) => this.redis.lrange(keys.deadLetters, 0, limit - 1)))
    const letters = lists.flat().map((record) => JSON.parse(record) as DeadLetter)
    return letters.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit)
  }

  /**
   * Records this conductor's FLUSH_SHARDS for its prefix, or adopts a change of it. A key's shard
   * depends on the count, so a change must not strand writes in shards no longer flushed: while any
   * shard of the recorded count holds unflushed writes it throws a ShardCountError naming both
   * counts. Otherwise it drops the cached rows of the old shards (a copy left behind would be read
   * again, stale, after a change back) and records the new count. A prefix without a record (a fresh
   * one, or one from before sharding) counts as one shard.
   */
  async adoptShardCount(entities: readonly string[]): Promise<void> {
    const key = flushShardsKey(this.prefix)
    const recorded = Number((await this.redis.get(key)) ?? 1)
    if (recorded === this.shards) return
    const old = new WriteBuffer(this.redis, this.scripts, this.prefix, this.pendingMaxKeys, recorded, this.cacheMaxKeys)
    for (const entity of entities) {
      const unflushed = await old.unflushedCount(entity)
      if (unflushed > 0) {
        throw new ShardCountError(
          `FLUSH_SHARDS is ${this.shards}, but the conductors of prefix ${this.prefix} split the buffer into ${recorded} shards, and ` +
            `${unflushed} writes of ${entity} in them are not flushed yet. Run with FLUSH_SHARDS=${recorded} until they are ` +
            `(stopping every conductor flushes them), then change it.`,
        )
      }
    }
    const stale = entities.flatMap((entity) => old.allKeys(entity).flatMap((keys) => [keys.cacheVersions, keys.cacheValues, keys.cacheAccess]))
    // One key per call: on a Redis Cluster the shards live in different slots.
    await Promise.all(stale.map((cacheKey) => this.redis.unlink(cacheKey)))
    await this.redis.set(key, this.shards)
  }

  private async shardStats(keys: EntityKeys): Promise<BufferStats> {
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
}
