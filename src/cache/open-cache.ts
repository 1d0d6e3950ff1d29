import type { Redis } from 'ioredis'
import type { Config } from '../config.ts'
import { EntityCache } from './entity-cache.ts'
import { LuaScripts } from './lua-scripts.ts'
import { WriteBuffer } from './write-buffer.ts'

/** The pending-write buffer and the cache of one conductor prefix, on one Redis connection. */
export function openCache(redis: Redis, config: Pick<Config, 'CONDUCTOR_PREFIX' | 'PENDING_MAX_KEYS'>): { buffer: WriteBuffer; cache: EntityCache } {
  const scripts = new LuaScripts(redis)
  const buffer = new WriteBuffer(redis, scripts, config.CONDUCTOR_PREFIX, config.PENDING_MAX_KEYS)
  return { buffer, cache: new EntityCache(scripts, buffer) }
}
