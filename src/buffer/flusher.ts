import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { FlushFaultPoint } from '../config.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { DeadLetter, VersionedRow } from './rows.ts'
import type { WriteBuffer } from './write-buffer.ts'
import type { EntityName } from '../queues/contract/entities.ts'
import type { EntityStore, SqlClient } from './entity-store.ts'
import { describeSqlError, isRowRejection, sqlState } from '../db/sql-state.ts'
import { withDeadline } from '../deadline.ts'

export interface FlushSettings {
  batchMax: number
  timeoutMs: number
  deadLetterMax: number
  /** Back-off after a failed transaction: the first delay, doubled with each failure in a row up to the longest. */
  retryFirstDelayMs: number
  retryMaxDelayMs: number
  /** Test-only (FAULT_INJECT): the point at which the process kills itself. */
  faultPoint?: FlushFaultPoint
}

export interface FlushOutcome {
  /** Transactions committed. */
  transactions: number
  rows: number
  deadLettered: number
  /** Another flush held the shard's lease, so this one did nothing. */
  busy: boolean
}

/** One committed flush transaction, for whoever measures the path from accept to durable. */
export interface FlushCommit {
  entity: EntityName
  shard: number
  /** The rows the transaction wrote (dead-lettered ones left out). */
  rows: VersionedRow[]
  startedAt: number
  committedAt: number
}

export type FlushCommitListener = (commit: FlushCommit) => void

/**
 * Persists the pending writes of one shard of an entity: takes a batch from Redis, writes it in ONE
 * transaction, and only then releases it. A failed transaction leaves the batch in Redis for the next flush; a crash
 * after the commit re-applies the same batch, which the version guard makes harmless.
 */
export class Flusher {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: EntityStore,
    private readonly buffer: WriteBuffer,
    private readonly settings: FlushSettings,
    private readonly log: Logger,
    private readonly onCommitted?: FlushCommitListener,
  ) {}

  /**
   * Flushes batch after batch while full or retried batches come, so a backlog drains within one
   * flush job.
   */
  async flush(entity: EntityName, shard: number): Promise<FlushOutcome> {
    const outcome: FlushOutcome = { transactions: 0, rows: 0, deadLettered: 0, busy: false }
    // The lease outlives the longest transaction (waiting for a connection, then running).
    const leaseMs = 2 * this.settings.timeoutMs + 5000
    for (;;) {
      const token = randomUUID()
      const taken = await this.buffer.takeBatch(entity, shard, token, leaseMs, this.settings.batchMax)
      if (taken === null) return { ...outcome, busy: true }
      const batch = taken.rows
      if (batch.length === 0) return outcome
      this.crashAt('before-transaction')
      let refused: DeadLetter[]
      const startedAt = Date.now()
      try {
        refused = await this.persist(entity, batch)
      } catch (error) {
        const { streak, delayMs } = await this.buffer.flushFailed(entity, shard, token, this.settings.retryFirstDelayMs, this.settings.retryMaxDelayMs)
        this.log.warn(
          { entity, shard, rows: batch.length, attempt: streak, nextAttemptInMs: delayMs, reason: describeSqlError(error) },
          'flush failed; the batch stays in Redis and is retried after a back-off',
        )
        throw error
      }
      this.onCommitted?.({ entity, shard, rows: written(batch, refused), startedAt, committedAt: Date.now() })
      this.crashAt('after-commit')
      outcome.transactions += 1
      outcome.rows += batch.length - refused.length
      outcome.deadLettered += refused.length
      for (const letter of refused)
        this.log.warn({ entity, key: letter.key, version: letter.version, reason: letter.reason }, 'row refused by PostgreSQL, dead-lettered')
      if (!(await this.buffer.releaseBatch(entity, shard, token, refused, this.settings.deadLetterMax))) {
        this.log.warn({ entity, shard }, 'flush lease expired before release; its new holder re-applies and releases the batch')
        return outcome
      }
      if (!taken.retried && batch.length < this.settings.batchMax) return outcome
    }
  }

  /**
   * The final flush of a stopping conductor: every shard of every entity until nothing is pending or
   * the deadline passes (waiting while another conductor's flush holds a shard's lease). What is left
   * stays in Redis for the next conductor.
   */
  async flushEverything(entities: readonly EntityName[], deadline: number): Promise<void> {
    for (const entity of entities) {
      for (let shard = 0; shard < this.buffer.shards; shard++) {
        while ((await this.buffer.unflushedCount(entity, shard)) > 0 && Date.now() < deadline) {
          const outcome = await this.flush(entity, shard).catch((error: unknown) => {
            this.log.error({ entity, shard, err: error }, 'final flush failed; the batch stays in Redis for the next conductor')
            return null
          })
          if (outcome === null) break
          if (outcome.busy) await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    }
  }

  /** Test-only: dies at `point` as `kill -9` would, when FAULT_INJECT names it; nothing otherwise. */
  private crashAt(point: FlushFaultPoint): void {
    if (this.settings.faultPoint === point) process.kill(process.pid, 'SIGKILL')
  }

  /**
   * Writes the batch in one transaction; returns the rows PostgreSQL refused on their own. Prisma's
   * own timeout ends the transaction with a ROLLBACK that a hung server never answers, so the flush
   * stops waiting for it by itself: the batch stays in Redis, and should the abandoned transaction
   * commit after all, the version guard makes the retry's second write of it harmless.
   */
  private persist(entity: EntityName, batch: VersionedRow[]): Promise<DeadLetter[]> {
    const { timeoutMs } = this.settings
    return withDeadline(this.transaction(entity, batch, timeoutMs), timeoutMs + 1000, `the flush transaction of ${batch.length} ${entity} rows`)
  }

  private transaction(entity: EntityName, batch: VersionedRow[], timeoutMs: number): Promise<DeadLetter[]> {
    return this.prisma.$transaction(
      async (tx) => {
        const refused: DeadLetter[] = []
        await this.writeIsolating(tx, entity, batch, refused)
        this.crashAt('before-commit')
        return refused
      },
      { maxWait: timeoutMs, timeout: timeoutMs },
    )
  }

  /**
   * Upserts the rows behind a savepoint. When PostgreSQL refuses them for what they hold, it rolls
   * back to the savepoint and bisects, so the refused rows end up alone and the rest is written,
   * all in the same transaction.
   */
  private async writeIsolating(tx: SqlClient, entity: EntityName, rows: VersionedRow[], refused: DeadLetter[]): Promise<void> {
    await tx.$executeRaw`SAVEPOINT flush_rows`
    try {
      await this.store.upsert(tx, entity, rows)
      await tx.$executeRaw`RELEASE SAVEPOINT flush_rows`
      return
    } catch (error) {
      if (!isRowRejection(sqlState(error))) throw error
      await tx.$executeRaw`ROLLBACK TO SAVEPOINT flush_rows`
      await tx.$executeRaw`RELEASE SAVEPOINT flush_rows`
      if (rows.length === 1) {
        const [row] = rows as [VersionedRow]
        refused.push({
          entity,
          key: row.key,
          version: row.version,
          value: JSON.parse(row.valueJson),
          reason: describeSqlError(error),
          at: new Date().toISOString(),
        })
        return
      }
    }
    const half = Math.ceil(rows.length / 2)
    await this.writeIsolating(tx, entity, rows.slice(0, half), refused)
    await this.writeIsolating(tx, entity, rows.slice(half), refused)
  }
}

function written(batch: VersionedRow[], refused: DeadLetter[]): VersionedRow[] {
  if (refused.length === 0) return batch
  const refusedKeys = new Set(refused.map((letter) => letter.key))
  return batch.filter((row) => !refusedKeys.has(row.key))
}
