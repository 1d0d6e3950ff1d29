import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'

/** The committed migrations, one folder each with its migration.sql (the same path from src/db/ and dist/db/). */
export const MIGRATIONS_DIR = new URL('../../prisma/migrations/', import.meta.url)

/**
 * The committed migrations the database does not hold as applied, by folder name, read from Prisma
 * Migrate's own table: missing, unfinished, rolled back, or applied with another checksum (the
 * SHA-256 of migration.sql, as Prisma records it). Empty when `prisma migrate deploy` has nothing
 * to do, so a start on a migrated database skips it (its schema engine costs seconds to boot).
 */
export async function pendingMigrations(databaseUrl: string, dir: URL = MIGRATIONS_DIR): Promise<string[]> {
  const committed = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({
      name: entry.name,
      checksum: createHash('sha256')
        .update(readFileSync(new URL(`${entry.name}/migration.sql`, dir)))
        .digest('hex'),
    }))
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ table: string | null }>(`SELECT to_regclass('_prisma_migrations') AS table`)
    if (rows[0]?.table == null) return committed.map(({ name }) => name)
    const applied = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    )
    const done = new Set(applied.rows.map((row) => `${row.migration_name} ${row.checksum}`))
    return committed.filter(({ name, checksum }) => !done.has(`${name} ${checksum}`)).map(({ name }) => name)
  } finally {
    await client.end()
  }
}
