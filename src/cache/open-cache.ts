import type { Config } from '../config.ts'
import type { RedisConnection } from '../redis-connection.ts'
import { EntityCache } from './entity-cache.ts'
import { InventoryCache } from './inventory-cache.ts'
import { LuaScripts } from './lua-scripts.ts'
import { ViewCache } from './view-cache.ts'
import { WriteBuffer } from './write-buffer.ts'

export interface CacheAccess {
  buffer: WriteBuffer
  cache: EntityCache
  views: ViewCache
  inventory: InventoryCache
}

/** The pending-write buffer and the caches of one conductor prefix, on one Redis connection (or Redis Cluster). */
export function openCache(redis: RedisConnection, config: Pick<Config, 'CONDUCTOR_PREFIX' | 'PENDING_MAX_KEYS' | 'FLUSH_SHARDS'>): CacheAccess {
  const scripts = new LuaScripts(redis)
  const buffer = new WriteBuffer(redis, scripts, config.CONDUCTOR_PREFIX, config.PENDING_MAX_KEYS, config.FLUSH_SHARDS)
  const cache = new EntityCache(scripts, buffer)
  return { buffer, cache, views: new ViewCache(cache, buffer), inventory: new InventoryCache(redis, config.CONDUCTOR_PREFIX) }
}
