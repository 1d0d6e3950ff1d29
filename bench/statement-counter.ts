import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../src/generated/prisma/client.ts'

export interface StatementCounts {
  /** Every SQL statement sent, BEGIN, COMMIT and SAVEPOINT included. */
  statements: number
  /** Committed transactions: each COMMIT, and each statement sent outside BEGIN…COMMIT (autocommit). */
  transactions: number
  rollbacks: number
}

/**
 * A Prisma client on a pg pool whose connections count what they send. The count is kept per
 * connection, so concurrent transactions never blur where one begins and ends; it is exact where
 * pg_stat_database lags (a backend reports its counters at most once a second, or when it exits).
 */
export class CountedPrisma {
  readonly prisma: PrismaClient
  private readonly pool: pg.Pool
  private readonly counts: StatementCounts = { statements: 0, transactions: 0, rollbacks: 0 }

  constructor(databaseUrl: string, poolMax?: number) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, ...(poolMax ? { max: poolMax } : {}) })
    this.pool.on('connect', (client) => this.watch(client))
    this.prisma = new PrismaClient({ adapter: new PrismaPg(this.pool) })
  }

  snapshot(): StatementCounts {
    return { ...this.counts }
  }

  /** Closes the pool: its backends exit and report their counters to pg_stat_database. */
  async close(): Promise<void> {
    await this.prisma.$disconnect()
    await this.pool.end()
  }

  private watch(client: pg.PoolClient): void {
    let inTransaction = false
    const send = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((...args: unknown[]) => {
      const first = args[0]
      const text = (typeof first === 'string' ? first : ((first as { text?: string }).text ?? '')).trimStart().toUpperCase()
      this.counts.statements += 1
      if (text.startsWith('BEGIN')) inTransaction = true
      else if (text.startsWith('COMMIT')) {
        inTransaction = false
        this.counts.transactions += 1
      } else if (text.startsWith('ROLLBACK') && !text.startsWith('ROLLBACK TO')) {
        inTransaction = false
        this.counts.rollbacks += 1
      } else if (!inTransaction) this.counts.transactions += 1
      return send(...args)
    }) as typeof client.query
  }
}
