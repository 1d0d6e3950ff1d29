import type { RedisConnection } from '../redis/connection.ts'
import type { LuaScripts } from '../redis/lua-scripts.ts'
import { isUuid } from '../queues/contract/name-uuid.ts'
import { rowsToTriples } from '../buffer/rows.ts'

/** Objects written through to PostgreSQL and then cached: device profiles and accelerator requests. */
export const viewKinds = ['device-profile', 'arq'] as const
export type ViewKind = (typeof viewKinds)[number]

/** A device profile is cached under its uuid and under `name:<name>`. */
export const deviceProfileKey = (id: string) => (isUuid(id) ? id.toLowerCase() : `name:${id}`)

export interface CachedView {
  key: string
  /** Grows with every committed change, so a late write of an older view never wins. */
  version: number
  view: unknown
}

/**
 * The API's answers for write-through objects, cached after each commit and read without a queue.
 * A keyspace of its own, apart from the write buffer's: views are never pending, never flushed and
 * never sharded (one hash pair per kind, one Redis Cluster slot).
 */
export class ViewCache {
  constructor(
    private readonly redis: RedisConnection,
    private readonly scripts: LuaScripts,
    private readonly prefix: string,
    /** CACHE_MAX_KEYS: past it, the least recently read views are evicted (a miss reads PostgreSQL again). */
    private readonly maxKeys: number,
    /** WRITE_VALUE_MAX_BYTES: a larger view is not cached (each read of it reads PostgreSQL), so the cache's bytes are bounded. */
    private readonly viewMaxBytes: number,
  ) {}

  /** Caches views after their commit; a key already cached at a newer version keeps it. */
  async put(kind: ViewKind, views: CachedView[]): Promise<void> {
    const { versions, values, access } = this.keys(kind)
    const rows = views
      .map(({ key, version, view }) => ({ key, version, valueJson: JSON.stringify(view) }))
      .filter((row) => Buffer.byteLength(row.valueJson) <= this.viewMaxBytes)
    if (rows.length === 0) return
    await this.scripts.run('prime', [versions, values, access], [this.maxKeys, Date.now(), ...rowsToTriples(rows)])
  }

  /** The cached view, its read time recorded (only while it is cached: XX never brings back an evicted key). */
  async get<T>(kind: ViewKind, key: string): Promise<T | null> {
    const { values, access } = this.keys(kind)
    const replies = await this.redis.multi().hget(values, key).zadd(access, 'XX', Date.now(), key).exec()
    const [error, json] = replies?.[0] ?? [new Error('the view read was discarded by Redis'), null]
    if (error) throw error
    return json === null ? null : (JSON.parse(json as string) as T)
  }

  async drop(kind: ViewKind, keys: string[]): Promise<void> {
    if (keys.length === 0) return
    const { versions, values, access } = this.keys(kind)
    await this.redis
      .multi()
      .hdel(versions, ...keys)
      .hdel(values, ...keys)
      .zrem(access, ...keys)
      .exec()
  }

  private keys(kind: ViewKind) {
    const base = `${this.prefix}:{conductor:view:${kind}}`
    return { versions: `${base}:versions`, values: `${base}:values`, access: `${base}:access` }
  }
}
