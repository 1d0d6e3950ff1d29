import type { Job, Queue } from 'bullmq'
import { WRITE_BATCH_JOB } from '../../../src/queues/contract/names.ts'
import { finishedJobs, type FinishedState } from './finished-jobs.ts'
import type { StoredRow } from './stored-rows.ts'

/** How PostgreSQL compares with what the writers were told. Every count but `keys` must be 0. */
export interface StoreCheck {
  /** Keys with at least one write a writer got accepted. */
  keys: number
  /** Keys with an accepted write and no row. */
  lost: number
  /** Keys whose row holds an older version than the newest accepted. */
  regressed: number
  /** Rows no write explains: a version nobody wrote, or a value that is not its version's. */
  phantom: number
  /** Rows at the version of a job that ended failed (accepted, then its worker died twice): allowed, reported. */
  unconfirmedApplied: number
}

interface WriteData {
  key: string
  version: number
}

/**
 * What the simulated writers were told, read back from their jobs: a completed job's writes were
 * accepted (or found stale against a newer accepted one), a failed job's writes may or may not have
 * been. PostgreSQL must hold, for every key, exactly the newest version of a completed job.
 */
export class Ledger {
  /** Key → newest version of a completed job. */
  private readonly confirmed = new Map<string, number>()
  /** Key → versions of failed jobs. */
  private readonly unconfirmed = new Map<string, Set<number>>()
  /** Failure reasons, by what they start with (up to the first colon), and how many jobs gave each. */
  readonly failures = new Map<string, number>()
  completedJobs = 0

  /** Reads every finished job of the writers' queue. */
  static async read(queue: Queue): Promise<Ledger> {
    const ledger = new Ledger()
    for (const { job, state } of await finishedJobs(queue)) ledger.add(job, state)
    return ledger
  }

  private add(job: Job, state: FinishedState): void {
    const writes: WriteData[] = job.name === WRITE_BATCH_JOB ? (job.data as { writes: WriteData[] }).writes : [job.data as WriteData]
    if (state === 'completed') {
      this.completedJobs += 1
      for (const { key, version } of writes) this.confirmed.set(key, Math.max(version, this.confirmed.get(key) ?? -1))
      return
    }
    const reason = job.failedReason.split(':')[0]!
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1)
    for (const { key, version } of writes) this.unconfirmed.set(key, (this.unconfirmed.get(key) ?? new Set()).add(version))
  }

  get failedJobs(): number {
    return [...this.failures.values()].reduce((sum, count) => sum + count, 0)
  }

  /** Jobs finished either way: at least as many as the writers added, or BullMQ lost one. */
  get jobs(): number {
    return this.completedJobs + this.failedJobs
  }

  verify(rows: Map<string, StoredRow>): StoreCheck {
    const check: StoreCheck = { keys: this.confirmed.size, lost: 0, regressed: 0, phantom: 0, unconfirmedApplied: 0 }
    for (const [key, version] of this.confirmed) {
      const row = rows.get(key)
      if (!row) check.lost += 1
      else if (row.version < version) check.regressed += 1
    }
    for (const [key, row] of rows) {
      const confirmed = this.confirmed.get(key) ?? -1
      const valueMatches = (row.metrics as { version?: unknown } | null)?.version === row.version
      if (row.version < confirmed) continue
      if (!valueMatches) check.phantom += 1
      else if (row.version > confirmed) {
        if (this.unconfirmed.get(key)?.has(row.version)) check.unconfirmedApplied += 1
        else check.phantom += 1
      }
    }
    return check
  }
}
