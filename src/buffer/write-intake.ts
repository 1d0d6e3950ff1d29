import type { EntityName } from '../queues/contract/entities.ts'
import { oversizedValue, versionTooFarAhead, type Write, type WriteResult } from '../queues/contract/writes.ts'
import { describeSqlError } from '../db/sql-state.ts'
import type { VersionedRow } from './rows.ts'
import type { AcceptOutcome, WriteBuffer } from './write-buffer.ts'
import { AcceptBatcher } from './accept-batcher.ts'

// One Lua call accepts at most this many writes, so a 10,000-write batch never blocks Redis for long.
const ACCEPT_CHUNK = 1000

/** A write ready for the buffer: its value already JSON, its size checked; itself the row the buffer keeps. */
export interface PreparedWrite extends VersionedRow {
  entity: EntityName
}

/** What PostgreSQL holds of keys Redis knows nothing of (the read path's read-through, given by the composition root). */
export type StoredRowLoader = (entity: EntityName, keys: string[]) => Promise<Map<string, VersionedRow>>

/**
 * The door of the write path: takes valid writes into the pending buffer, asking PostgreSQL for the
 * stored version of keys Redis has never seen, so an older write never wins over a stored row.
 */
export class WriteIntake {
  private readonly batcher: AcceptBatcher

  constructor(
    private readonly buffer: WriteBuffer,
    private readonly loadStored: StoredRowLoader,
    private readonly valueMaxBytes: number,
    private readonly versionMaxAheadMs: number,
  ) {
    this.batcher = new AcceptBatcher(buffer, ACCEPT_CHUNK)
  }

  /** A write of the contract, ready to accept, or why it is too large or its version too far ahead (`path` names it within its job). */
  prepare(write: Write, path: (string | number)[] = []): PreparedWrite | string {
    const ahead = versionTooFarAhead(write.version, this.versionMaxAheadMs, path)
    if (ahead) return ahead
    const valueJson = JSON.stringify(write.value)
    const oversized = oversizedValue(valueJson, this.valueMaxBytes, path)
    if (oversized) return oversized
    return { entity: write.entity as EntityName, key: write.key, version: write.version, valueJson }
  }

  /**
   * Accepts the writes chunk by chunk. Writes refused by back-pressure fail the job after the rest
   * are accepted; BullMQ retries it, and the writes accepted the first time then count as stale.
   */
  async accept(writes: PreparedWrite[]): Promise<WriteResult> {
    const result = { accepted: 0, stale: 0 }
    let refused = 0
    let backPressure = ''
    for (const [entity, rows] of byEntity(writes)) {
      for (let start = 0; start < rows.length; start += ACCEPT_CHUNK) {
        const chunk = rows.length <= ACCEPT_CHUNK ? rows : rows.slice(start, start + ACCEPT_CHUNK)
        const outcome = await this.acceptChunk(entity, chunk)
        result.accepted += outcome.accepted
        result.stale += outcome.stale
        if (outcome.refused > 0) {
          refused += outcome.refused
          backPressure = this.buffer.describeBackPressure(outcome.unflushed)
        }
      }
    }
    if (refused > 0) {
      throw new Error(`${backPressure}: ${refused} of ${writes.length} writes refused (${result.accepted} accepted, ${result.stale} stale); retry later`)
    }
    return result
  }

  private async acceptChunk(entity: EntityName, rows: VersionedRow[]): Promise<Omit<AcceptOutcome, 'undecided'>> {
    // The first pass shares its Redis round trip with the concurrent jobs' (group commit); the rare second pass goes alone.
    const first = await this.batcher.accept(entity, rows)
    if (first.undecided.length === 0) return first
    // Keys Redis knows nothing of: their stored version is read from PostgreSQL (and cached).
    const undecided = first.undecided.map((index) => rows[index]!)
    const stored = await this.loadStored(
      entity,
      undecided.map((row) => row.key),
    ).catch((error: unknown) => {
      throw new Error(
        `${undecided.length} writes of keys Redis does not know need their stored version, and reading it from PostgreSQL failed (${describeSqlError(error)}); retry later`,
        { cause: error },
      )
    })
    const storedVersions = new Map(undecided.map((row) => [row.key, stored.get(row.key)?.version ?? -1]))
    const second = await this.buffer.accept(entity, undecided, storedVersions)
    return {
      accepted: first.accepted + second.accepted,
      stale: first.stale + second.stale,
      refused: first.refused + second.refused,
      unflushed: second.unflushed,
    }
  }
}

/** The writes grouped by entity; a batch of one entity (an agent's report) is its own group, not copied. */
function byEntity(writes: PreparedWrite[]): Iterable<[EntityName, PreparedWrite[]]> {
  const first = writes[0]?.entity
  if (writes.every((write) => write.entity === first)) return first === undefined ? [] : [[first, writes]]
  const groups = new Map<EntityName, PreparedWrite[]>()
  for (const write of writes) {
    const group = groups.get(write.entity)
    if (group) group.push(write)
    else groups.set(write.entity, [write])
  }
  return groups
}
