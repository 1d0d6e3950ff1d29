import pg from 'pg'

/**
 * Records every transaction that writes deployable_usages (the flushes) with its start, in the
 * private server, which keeps commit timestamps (track_commit_timestamp): enough to tell whether
 * two flushes ever overlapped.
 */
export async function installFlushAudit(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query(`
      CREATE TABLE flush_audit (xid bigint NOT NULL, began timestamptz NOT NULL);
      CREATE FUNCTION flush_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO flush_audit VALUES (txid_current(), transaction_timestamp()); RETURN NULL; END $$;
      CREATE TRIGGER flush_audit AFTER INSERT ON deployable_usages FOR EACH STATEMENT EXECUTE FUNCTION flush_audit();`)
  })
}

/** The committed flush transactions, and how many began before an earlier one had committed. */
export async function auditedFlushes(databaseUrl: string): Promise<{ transactions: number; overlapping: number }> {
  const rows = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ began: Date; committed: Date }>(`
      SELECT min(began) AS began, pg_xact_commit_timestamp(xid::text::xid) AS committed
      FROM flush_audit GROUP BY xid ORDER BY began`)
    return rows
  })
  let overlapping = 0
  let lastCommit = 0
  for (const { began, committed } of rows) {
    if (began.getTime() < lastCommit) overlapping += 1
    lastCommit = Math.max(lastCommit, committed.getTime())
  }
  return { transactions: rows.length, overlapping }
}

async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
