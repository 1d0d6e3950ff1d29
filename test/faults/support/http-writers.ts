import { setTimeout as delay } from 'node:timers/promises'
import type { StoreCheck } from './ledger.ts'
import type { StoredRow } from './stored-rows.ts'

export interface HttpWritersOptions {
  /** The conductor's API. */
  port: number
  headers: Record<string, string>
  /** Keys are `${prefix}-h${index}`. */
  prefix: string
  /** Writes per POST. */
  batch: number
  /** POSTs in flight at once. */
  concurrency: number
  /** Picks the key index of each write. */
  nextKey: () => number
  /** Each POST waits at most this long for an answer. */
  requestTimeoutMs: number
}

/** What HTTP writers were answered, by status (`error` for no answer in time or a broken connection). */
export type Answers = Record<string, number>

/**
 * Writers that do not speak BullMQ: versioned usage POSTed to /conductor/writes. Their ledger is what
 * they were told: a 202 acknowledges every write of its batch, which PostgreSQL must then hold (or a
 * newer version of its key); a 503 asks them to come back after Retry-After, with newer versions.
 */
export class HttpWriters {
  private version = 0
  private stopping = false
  private running: Promise<void>[] = []
  /** Key → newest version acknowledged with a 202, and when that 202 came. */
  readonly acknowledged = new Map<string, number>()
  readonly acknowledgedAt = new Map<string, number>()
  readonly answers: Answers = {}
  /** Writes acknowledged with a 202. */
  acknowledgedWrites = 0

  constructor(private readonly options: HttpWritersOptions) {}

  key(index: number): string {
    return `${this.options.prefix}-h${index}`
  }

  start(): void {
    this.stopping = false
    this.running = Array.from({ length: this.options.concurrency }, () => this.loop())
  }

  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(this.running)
  }

  /** One POST of the given key indexes; resolves to its status (0 for no answer). */
  async post(indexes: number[]): Promise<number> {
    const writes = indexes.map((index) => {
      const version = ++this.version
      return { entity: 'usage', key: this.key(index), version, value: { version, accelerators_in_use: version % 8 } }
    })
    let status = 0
    try {
      const response = await fetch(`http://127.0.0.1:${this.options.port}/conductor/writes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body: JSON.stringify({ writes }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      })
      status = response.status
      await response.arrayBuffer()
    } catch {
      status = 0
    }
    const name = status === 0 ? 'error' : String(status)
    this.answers[name] = (this.answers[name] ?? 0) + 1
    if (status === 202) {
      this.acknowledgedWrites += writes.length
      const at = Date.now()
      for (const { key, version } of writes) {
        this.acknowledged.set(key, Math.max(version, this.acknowledged.get(key) ?? -1))
        this.acknowledgedAt.set(key, at)
      }
    }
    return status
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const status = await this.post(Array.from({ length: this.options.batch }, () => this.options.nextKey()))
      // Retry-After is a second or more; the writers come back sooner, so back-pressure keeps being exercised.
      if (status !== 202) await delay(200)
    }
  }

  /** PostgreSQL against what the writers were told: every acknowledged write there, or a newer one of its key. */
  verify(rows: Map<string, StoredRow>): Pick<StoreCheck, 'keys' | 'lost' | 'regressed'> {
    const missing = this.missing(rows)
    return { keys: this.acknowledged.size, lost: missing.filter(({ row }) => !row).length, regressed: missing.filter(({ row }) => row).length }
  }

  /** The keys whose acknowledged write PostgreSQL lacks (no row, or an older one), with when it was acknowledged. */
  missing(rows: Map<string, StoredRow>): { key: string; row: StoredRow | undefined; acknowledgedAt: number }[] {
    return [...this.acknowledged]
      .filter(([key, version]) => (rows.get(key)?.version ?? -1) < version)
      .map(([key]) => ({ key, row: rows.get(key), acknowledgedAt: this.acknowledgedAt.get(key)! }))
  }
}
