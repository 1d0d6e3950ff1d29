import type { RedisConnection } from '../redis/connection.ts'

/** A host's inventory as PostgreSQL holds it, with the row ids reconciliation needs. */
export interface StoredHost {
  hostname: string
  /** Version of the last snapshot reconciled. */
  version: number
  devices: StoredDevice[]
}

export interface StoredDevice {
  id: number
  type: string
  vendor: string
  model: string
  std_board_info: unknown
  vendor_board_info: string
  /** `maintaining` (disabled by an operator) or `enabled`; trees cached before it was kept have none: enabled. */
  status?: string
  cpid: { id: number; cpid_type: string; cpid_info: string }
  deployables: StoredDeployable[]
}

export interface StoredDeployable {
  id: number
  name: string
  num_accelerators: number
  driver_name: string | null
  bitstream_id: string | null
  attributes: { id: number; key: string; value: string }[]
  attach_handles: { id: number; attach_type: string; attach_info: string }[]
}

/**
 * Each host's stored inventory tree, so that the periodic full snapshot of an unchanged host costs
 * one Redis read instead of a query of every table.
 */
export class InventoryCache {
  private readonly key: string

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
  ) {
    this.key = `${prefix}:{conductor:inventory}:hosts`
  }

  async get(hostname: string): Promise<StoredHost | null> {
    const json = await this.redis.hget(this.key, hostname)
    return json === null ? null : (JSON.parse(json) as StoredHost)
  }

  async set(host: StoredHost): Promise<void> {
    await this.redis.hset(this.key, host.hostname, JSON.stringify(host))
  }

  /** Forgets a host's tree after a change made outside reconciliation; the next report reloads it. */
  async forget(hostname: string): Promise<void> {
    await this.redis.hdel(this.key, hostname)
  }
}
