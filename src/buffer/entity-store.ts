import { Prisma } from '../generated/prisma/client.ts'
import type { VersionedRow } from './rows.ts'
import type { EntityName } from '../queues/contract/entities.ts'

/** Where a write-behind entity lives in PostgreSQL. */
interface EntityTable {
  table: string
  keyColumn: string
  valueColumn: string
}

const entityTables: Record<EntityName, EntityTable> = {
  usage: { table: 'deployable_usages', keyColumn: 'deployable_uuid', valueColumn: 'metrics' },
}

/** The part of a Prisma client, or of an interactive transaction, that raw SQL needs. */
export type SqlClient = Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw'>

/**
 * Reads and writes the rows of write-behind entities. The upsert is guarded by version in SQL
 * itself, so re-applying a batch, or applying an older one late, can never move a row backwards.
 */
export class EntityStore {
  async find(db: SqlClient, entity: EntityName, keys: string[]): Promise<VersionedRow[]> {
    const { table, keyColumn, valueColumn } = sqlNames(entity)
    const rows = await db.$queryRaw<{ key: string; version: bigint; value_json: string }[]>`
      SELECT ${keyColumn} AS key, version, ${valueColumn}::text AS value_json
      FROM ${table} WHERE ${keyColumn} = ANY(${keys}::text[])`
    return rows.map((row) => ({ key: row.key, version: Number(row.version), valueJson: row.value_json }))
  }

  /**
   * Upserts the rows in one statement; returns how many rows moved forward. The rows travel as one
   * JSON document of `[key, version, value]` triples, built from the value JSON each row already
   * carries: three parameter arrays of one element per row cost Prisma's query compiler and pg's
   * array encoding about twice the client CPU per flush (docs/performance.md).
   */
  async upsert(db: SqlClient, entity: EntityName, rows: VersionedRow[]): Promise<number> {
    const { table, keyColumn, valueColumn } = sqlNames(entity)
    return db.$executeRaw`
      INSERT INTO ${table} AS stored (${keyColumn}, version, ${valueColumn})
      SELECT row->>0, (row->>1)::bigint, row->2 FROM jsonb_array_elements(${rowsDocument(rows)}::jsonb) AS row
      ON CONFLICT (${keyColumn}) DO UPDATE
        SET version = excluded.version, ${valueColumn} = excluded.${valueColumn}, updated_at = now()
        WHERE stored.version < excluded.version`
  }
}

/** The rows as one JSON array of `[key, version, value]`; each value is spliced in as the JSON text it already is. */
function rowsDocument(rows: VersionedRow[]): string {
  let json = '['
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!
    json += `${index === 0 ? '' : ','}[${JSON.stringify(row.key)},${row.version},${row.valueJson}]`
  }
  return `${json}]`
}

function sqlNames(entity: EntityName) {
  const { table, keyColumn, valueColumn } = entityTables[entity]
  return { table: Prisma.raw(`"${table}"`), keyColumn: Prisma.raw(`"${keyColumn}"`), valueColumn: Prisma.raw(`"${valueColumn}"`) }
}
