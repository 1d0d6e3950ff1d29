import type { EntityStore, SqlClient } from '../buffer/entity-store.ts'
import type { VersionedRow } from '../buffer/rows.ts'
import type { EntityName } from '../queues/contract/entities.ts'
import type { ReadResult } from '../queues/contract/writes.ts'
import type { EntityCache } from './entity-cache.ts'

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

  /** The newest accepted value of a key: pending writes and the cache first, PostgreSQL on a miss. */
  async read(entity: EntityName, key: string): Promise<ReadResult> {
    const cached = await this.cache.read(entity, key)
    if (cached) return { found: true, ...cached }
    const row = (await this.load(entity, [key])).get(key)
    if (!row) return { found: false, value: null, version: null, source: 'db' }
    return { found: true, value: JSON.parse(row.valueJson), version: row.version, source: 'db' }
  }

  /** The stored rows of the keys (those PostgreSQL has), now cached. */
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
        // Every caller awaits `row` below and sees its failure; this chain only forgets the entry.
        row.then(
          () => this.inFlight.delete(id),
          () => this.inFlight.delete(id),
        )
      }
    }
    const rows = await Promise.all(keys.map((key) => this.inFlight.get(`${entity}\u0000${key}`)!))
    return new Map(rows.filter((row) => row !== undefined).map((row) => [row.key, row]))
  }
}
