import type { EntityCache } from '../cache/entity-cache.ts'
import type { VersionedRow } from '../cache/rows.ts'
import type { EntityName } from '../queues/entities.ts'
import type { EntityStore, SqlClient } from './entity-store.ts'

/**
 * Reads keys Redis knows nothing of from PostgreSQL and caches what it finds. Concurrent loads of
 * one key share one query: when a thousand agents start at once, each deployable is read once.
 */
export class ReadThrough {
  private readonly inFlight = new Map<string, Promise<VersionedRow | undefined>>()

  constructor(
    private readonly db: SqlClient,
    private readonly store: EntityStore,
    private readonly cache: EntityCache,
  ) {}

  async load(entity: EntityName, keys: string[]): Promise<Map<string, VersionedRow>> {
    const missing = [...new Set(keys)].filter((key) => !this.inFlight.has(`${entity}\u0000${key}`))
    if (missing.length > 0) {
      const query = this.store.find(this.db, entity, missing).then(async (rows) => {
        await this.cache.prime(entity, rows)
        return new Map(rows.map((row) => [row.key, row]))
      })
      for (const key of missing) {
        const id = `${entity}\u0000${key}`
        const row = query.then((rows) => rows.get(key))
        this.inFlight.set(id, row)
        void row.catch(() => {}).finally(() => this.inFlight.delete(id))
      }
    }
    const rows = await Promise.all(keys.map((key) => this.inFlight.get(`${entity}\u0000${key}`)!))
    return new Map(rows.filter((row) => row !== undefined).map((row) => [row.key, row]))
  }
}
