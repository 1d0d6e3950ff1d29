import type { RedisConnection } from '../redis/connection.ts'

/** What the conductor last wrote to one provider: the generation Placement gave it, and the wanted contents' digest. */
export interface RecordedProvider {
  generation: number
  digest: string
}

/**
 * The providers each host's last sync left in Placement, in Redis. A provider whose generation is
 * still the one recorded has not been touched since, so an unchanged snapshot is checked without
 * reading its inventories and traits. Only an optimisation: without it (Redis flushed) a sync reads
 * them from Placement, and still writes nothing that is already there.
 */
export class ProviderRecord {
  private readonly prefix: string

  constructor(
    private readonly redis: RedisConnection,
    conductorPrefix: string,
  ) {
    this.prefix = `${conductorPrefix}:{conductor:placement}`
  }

  async get(hostname: string): Promise<Map<string, RecordedProvider>> {
    const entries = await this.redis.hgetall(this.hostKey(hostname))
    return new Map(Object.entries(entries).map(([uuid, json]) => [uuid, JSON.parse(json) as RecordedProvider]))
  }

  /** Replaces the host's record; the number of providers is kept for the `providers managed` gauge. */
  async set(hostname: string, providers: Map<string, RecordedProvider>): Promise<void> {
    const key = this.hostKey(hostname)
    const pipeline = this.redis.multi().del(key)
    if (providers.size > 0) pipeline.hset(key, Object.fromEntries([...providers].map(([uuid, entry]) => [uuid, JSON.stringify(entry)])))
    await pipeline.exec()
    await this.redis.hset(this.countsKey(), hostname, providers.size)
  }

  /** Providers the conductors of this prefix manage in Placement, over every host. */
  async providerCount(): Promise<number> {
    const counts = await this.redis.hvals(this.countsKey())
    return counts.reduce((sum, count) => sum + Number(count), 0)
  }

  private hostKey(hostname: string): string {
    return `${this.prefix}:host:${hostname}`
  }

  private countsKey(): string {
    return `${this.prefix}:provider-counts`
  }
}
