import pg from 'pg'

export interface StoredRow {
  version: number
  metrics: unknown
}

/** The rows PostgreSQL holds for keys starting with `prefix`: key → version and metrics. */
export async function storedRows(databaseUrl: string, prefix: string): Promise<Map<string, StoredRow>> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ deployable_uuid: string; version: string; metrics: unknown }>(
      'SELECT deployable_uuid, version, metrics FROM deployable_usages WHERE starts_with(deployable_uuid, $1)',
      [prefix],
    )
    return new Map(rows.map((row) => [row.deployable_uuid, { version: Number(row.version), metrics: row.metrics }]))
  } finally {
    await client.end()
  }
}
