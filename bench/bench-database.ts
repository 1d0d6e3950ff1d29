import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ensureDatabase, maintenanceClient } from '../src/services.ts'

/**
 * The bench's own database: pg_stat_database counts per database, so its transaction counters
 * belong to the bench alone. Read from the maintenance database, so reading adds nothing to them.
 */
export class BenchDatabase {
  private constructor(
    readonly url: string,
    private readonly name: string,
    private readonly monitor: pg.Client,
  ) {}

  /** Creates the database if missing and brings it to the committed migrations. */
  static async prepare(serverUrl: string, name: string): Promise<BenchDatabase> {
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    await ensureDatabase(url.toString())
    execFileSync('npx', ['prisma', 'migrate', 'deploy'], { env: { ...process.env, DATABASE_URL: url.toString() }, stdio: ['ignore', 'ignore', 'inherit'] })
    const monitor = maintenanceClient(url.toString())
    await monitor.connect()
    return new BenchDatabase(url.toString(), name, monitor)
  }

  /**
   * pg_stat_database's committed transactions. Backends report when they exit (close the pools
   * first) and otherwise at most once a second, so this waits until two reads agree.
   */
  async committedTransactions(): Promise<number> {
    let last = await this.readCommitted()
    for (let attempt = 0; attempt < 25; attempt++) {
      await sleep(200)
      const now = await this.readCommitted()
      if (now === last) return now
      last = now
    }
    return last
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.monitor.query<{ server_version: string }>('SHOW server_version')
    return rows[0]!.server_version
  }

  async deleteUsage(keys: string[]): Promise<void> {
    const client = new pg.Client({ connectionString: this.url })
    await client.connect()
    try {
      await client.query('DELETE FROM deployable_usages WHERE deployable_uuid = ANY($1::text[])', [keys])
    } finally {
      await client.end()
    }
  }

  async close(): Promise<void> {
    await this.monitor.end()
  }

  private async readCommitted(): Promise<number> {
    const { rows } = await this.monitor.query<{ xact_commit: string }>('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [this.name])
    return Number(rows[0]?.xact_commit ?? 0)
  }
}
