import type { ReadSource } from '../queues/contract/writes.ts'
import type { LuaScripts } from '../redis/lua-scripts.ts'
import { rowsToTriples, type VersionedRow } from '../buffer/rows.ts'
import type { WriteBuffer } from '../buffer/write-buffer.ts'

export interface CachedRead {
  source: Exclude<ReadSource, 'db'>
  version: number
  value: unknown
}

/**
 * The Redis hash cache of what PostgreSQL holds, read together with the writes accepted but not
 * yet flushed, so a read always sees the newest accepted version.
 */
export class EntityCache {
  constructor(
    private readonly scripts: LuaScripts,
    private readonly buffer: WriteBuffer,
  ) {}

  /** The newest accepted value of `key` (from its shard), or null when Redis has no trace of it (read PostgreSQL). */
  async read(entity: string, key: string): Promise<CachedRead | null> {
    const keys = this.buffer.keys(entity, this.buffer.shardOf(key))
    const reply = (await this.scripts.run(
      'read',
      [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues, keys.cacheVersions, keys.cacheValues, keys.cacheAccess],
      [key, Date.now()],
    )) as [CachedRead['source'], string, string] | null
    if (reply === null) return null
    const [source, version, valueJson] = reply
    return { source, version: Number(version), value: JSON.parse(valueJson) }
  }

  /** Caches rows read from PostgreSQL (the coldest keys beyond CACHE_MAX_KEYS evicted); a key already cached at a newer version keeps it. */
  async prime(entity: string, rows: VersionedRow[]): Promise<void> {
    await Promise.all(
      [...this.buffer.byShard(rows, (row) => row.key)].map(([shard, group]) => {
        const keys = this.buffer.keys(entity, shard)
        return this.scripts.run(
          'prime',
          [keys.cacheVersions, keys.cacheValues, keys.cacheAccess],
          [this.buffer.shardCacheMaxKeys, Date.now(), ...rowsToTriples(group)],
        )
      }),
    )
  }
}
