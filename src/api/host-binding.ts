import type { Caller } from '../auth/access.ts'
import type { InventoryCache } from '../cache/inventory-cache.ts'
import { deployableUuid } from '../queues/contract/name-uuid.ts'
import type { Write } from '../queues/contract/writes.ts'
import { forbidden, HttpError } from './http-error.ts'

/**
 * What an agent token bound to a host (`token:agent:<host>` in API_TOKENS) may report: the inventory
 * of that host, and the usage of that host's deployables. A usage key is a deployable's uuid
 * (uuid5 of its name), so the host's deployables are those of its last reconciled inventory, read
 * from the host inventory cache (one Redis call). Other callers (admins, unbound agent tokens) are
 * not limited here.
 */
export class HostBinding {
  constructor(private readonly inventory: InventoryCache) {}

  /** Refuses (403) a snapshot of another host than the caller's. */
  checkInventory(caller: Caller, hostname: string): void {
    const host = boundHost(caller)
    if (host !== null && hostname !== host) throw forbidden(`this agent token reports for host ${JSON.stringify(host)} only, not ${JSON.stringify(hostname)}`)
  }

  /**
   * Refuses (403) usage of a deployable that is not the caller's host's, naming the first writes;
   * 409 with Retry-After while the host has no inventory the conductor knows (report it first).
   */
  async checkWrites(caller: Caller, writes: readonly Write[], retryAfterSeconds: number): Promise<void> {
    const host = boundHost(caller)
    if (host === null) return
    const tree = await this.inventory.get(host)
    if (!tree) {
      throw new HttpError(
        409,
        'Conflict',
        `host ${JSON.stringify(host)} has no inventory the conductor knows yet: report it (POST /conductor/inventory), then its usage`,
        { 'retry-after': String(retryAfterSeconds) },
      )
    }
    const own = new Set(tree.devices.flatMap((device) => device.deployables.map((deployable) => deployableUuid(deployable.name))))
    const foreign = writes.flatMap((write, index) => (own.has(write.key) ? [] : [`writes.${index}.key ${JSON.stringify(write.key)}`]))
    if (foreign.length > 0) {
      throw forbidden(
        `this agent token reports for host ${JSON.stringify(host)} only, and ${foreign.length} write(s) are not the usage of its deployables: ${foreign.slice(0, 10).join(', ')}`,
      )
    }
  }
}

/** The host an agent token is bound to; null for every other caller. */
function boundHost(caller: Caller): string | null {
  return caller.role === 'agent' ? caller.host : null
}
