import type { ReadSource } from '../queues/contract.ts'
import type { LuaScripts } from './lua-scripts.ts'
import { rowsToTriples, type VersionedRow } from './rows.ts'
import type { WriteBuffer } from './write-buffer.ts'

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

  /** The newest accepted value of `key`, or null when Redis has no trace of it (read PostgreSQL). */
  async read(entity: string, key: string): Promise<CachedRead | null> {
    const keys = this.buffer.keys(entity)
    const reply = (await this.scripts.run(
      'read',
      [keys.pendingVersions, keys.pendingValues, keys.flushingVersions, keys.flushingValues, keys.cacheVersions, keys.cacheValues],
      [key],
    )) as [CachedRead['source'], string, string] | null
    if (reply === null) return null
    const [source, version, valueJson] = reply
    return { source, version: Number(version), value: JSON.parse(valueJson) }
  }

  /** Caches rows read from PostgreSQL; a key already cached at a newer version keeps it. */
  async prime(entity: string, rows: VersionedRow[]): Promise<void> {
    if (rows.length === 0) return
    const keys = this.buffer.keys(entity)
    await this.scripts.run('prime', [keys.cacheVersions, keys.cacheValues], rowsToTriples(rows))
  }
}
