import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client.ts'

/** How long each step of talking to PostgreSQL may take: a hung server or network path gets an error, never a wait without end. */
export interface DatabaseDeadlines {
  /** Opening a connection (TCP, TLS, authentication). */
  connectTimeoutMs: number
  /** One statement: enforced by the server (statement_timeout) and by the client (the reply must come in time). */
  queryTimeoutMs: number
  /** A transaction left open without a statement: the server ends its session. */
  idleInTransactionTimeoutMs: number
}

export const DEFAULT_DATABASE_DEADLINES: DatabaseDeadlines = { connectTimeoutMs: 5000, queryTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000 }

const QUERY_READ_TIMEOUT = 'Query read timeout'

/**
 * pg's client-side query timeout answers the caller but leaves the connection waiting for the reply
 * of the hung statement, so every later query on it would wait too. This client closes its
 * connection then: the pool drops it and opens a fresh one.
 */
class DeadlineClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config)
    const query = this.query.bind(this) as (...args: unknown[]) => unknown
    this.query = ((...args: unknown[]) => {
      const result = query(...args)
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          if (error instanceof Error && error.message === QUERY_READ_TIMEOUT) this.abandon()
        })
      }
      return result
    }) as typeof this.query
  }

  private abandon(): void {
    ;(this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
  }
}

/** A Prisma client on the pg driver adapter (no native query engine anywhere), every step with a deadline. */
export function createPrismaClient(databaseUrl: string, deadlines: DatabaseDeadlines = DEFAULT_DATABASE_DEADLINES): PrismaClient {
  const pool: pg.PoolConfig = {
    connectionString: databaseUrl,
    Client: DeadlineClient,
    connectionTimeoutMillis: deadlines.connectTimeoutMs,
    query_timeout: deadlines.queryTimeoutMs,
    statement_timeout: deadlines.queryTimeoutMs,
    idle_in_transaction_session_timeout: deadlines.idleInTransactionTimeoutMs,
    // A peer that vanished (host down, connection dropped by a firewall) is found by the kernel.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  }
  return new PrismaClient({ adapter: new PrismaPg(pool) })
}
