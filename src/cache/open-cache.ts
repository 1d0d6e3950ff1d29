import type { Redis } from 'ioredis'
import { EntityCache } from './entity-cache.ts'
import { LuaScripts } from './lua-scripts.ts'
import { WriteBuffer } from './write-buffer.ts'

/** The pending-write buffer and the cache of one conductor prefix, on one Redis connection. */
export function openCache(redis: Redis, prefix: string): { buffer: WriteBuffer; cache: EntityCache } {
  const scripts = new LuaScripts(redis)
  const buffer = new WriteBuffer(redis, scripts, prefix)
  return { buffer, cache: new EntityCache(scripts, buffer) }
}
