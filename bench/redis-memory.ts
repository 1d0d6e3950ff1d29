import type { Redis } from 'ioredis'

/** The server's used_memory, in bytes (the whole Redis: shared with whatever else runs on it). */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0)
}

/** Exact bytes (MEMORY USAGE with every element sampled) of the given keys. */
export async function memoryOfKeys(redis: Redis, keys: string[]): Promise<number> {
  let bytes = 0
  for (const key of keys) bytes += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0)
  return bytes
}

/** Every key under a prefix: the run's queues, jobs, buffers and caches. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix)
  for (let start = 0; start < keys.length; start += 1000) await redis.unlink(...keys.slice(start, start + 1000))
}
