import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { Config } from '../config.ts'

/** A connection to a single Redis or to a Redis Cluster: every part of the conductor takes either. */
export type RedisConnection = Redis | Cluster

export type RedisTarget = Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>

/**
 * Connects to REDIS_CLUSTER_NODES when set (a Redis Cluster, with REDIS_URL's user and password for
 * its nodes), to REDIS_URL otherwise. `options` are a node connection's; lazyConnect and
 * retryStrategy apply to the whole cluster. BullMQ connections pass maxRetriesPerRequest: null.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  if (target.REDIS_CLUSTER_NODES.length === 0) return new Redis(target.REDIS_URL, options)
  const { lazyConnect, retryStrategy, ...nodeOptions } = options
  const url = new URL(target.REDIS_URL)
  const credentials = { username: decodeURIComponent(url.username) || undefined, password: decodeURIComponent(url.password) || undefined }
  return new Cluster(
    target.REDIS_CLUSTER_NODES.map((node) => {
      const [host, port] = node.split(':') as [string, string]
      return { host, port: Number(port) }
    }),
    { lazyConnect, ...(retryStrategy && { clusterRetryStrategy: retryStrategy }), redisOptions: { ...credentials, ...nodeOptions } },
  )
}

/**
 * The BullMQ prefix of the conductor's queues. On a Redis Cluster BullMQ needs every key of a queue
 * in one slot, so the prefix is wrapped in braces, `{CONDUCTOR_PREFIX}`; on a single Redis it is
 * CONDUCTOR_PREFIX as it always was, so existing producers and queued jobs keep working.
 */
export function queuePrefix(config: Pick<Config, 'CONDUCTOR_PREFIX' | 'REDIS_CLUSTER_NODES'>): string {
  return config.REDIS_CLUSTER_NODES.length === 0 ? config.CONDUCTOR_PREFIX : `{${config.CONDUCTOR_PREFIX}}`
}
