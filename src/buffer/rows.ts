/** One versioned value of one key, with the value kept as the JSON text that Redis and SQL carry. */
export interface VersionedRow {
  key: string
  version: number
  valueJson: string
}

/** A row PostgreSQL refused on its own, as an operator reads it from the dead-letter list. */
export interface DeadLetter {
  entity: string
  key: string
  version: number
  value: unknown
  reason: string
  at: string
}

/** Reads groups of three Redis replies (key, version, value JSON) back into rows. */
export function rowsFromTriples(reply: string[]): VersionedRow[] {
  const rows: VersionedRow[] = []
  for (let i = 0; i < reply.length; i += 3) {
    rows.push({ key: reply[i]!, version: Number(reply[i + 1]), valueJson: reply[i + 2]! })
  }
  return rows
}

export function rowsToTriples(rows: VersionedRow[]): (string | number)[] {
  return rows.flatMap((row) => [row.key, row.version, row.valueJson])
}
