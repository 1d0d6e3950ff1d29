import type { EntityCache } from '../cache/entity-cache.ts'
import type { VersionedRow } from '../cache/rows.ts'
import type { EntityName } from '../queues/entities.ts'
import type { EntityStore, SqlClient } from './entity-store.ts'

/** Reads keys Redis knows nothing of from PostgreSQL and caches what it finds. */
export class ReadThrough {
  constructor(
    private readonly db: SqlClient,
    private readonly store: EntityStore,
    private readonly cache: EntityCache,
  ) {}

  async load(entity: EntityName, keys: string[]): Promise<Map<string, VersionedRow>> {
    const rows = await this.store.find(this.db, entity, [...new Set(keys)])
    await this.cache.prime(entity, rows)
    return new Map(rows.map((row) => [row.key, row]))
  }
}
