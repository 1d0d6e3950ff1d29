/** The PostgreSQL SQLSTATE of an error thrown through Prisma's pg adapter, or of a plain pg error. */
export function sqlState(error: unknown): string | undefined {
  const meta = (error as { meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta
  const code = meta?.driverAdapterError?.cause?.originalCode ?? meta?.code ?? (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/**
 * Whether a unique constraint refused the statement: Prisma's own P2002 (a create through the client),
 * or PostgreSQL's 23505 (raw SQL and the driver adapter).
 */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'P2002' || sqlState(error) === '23505'
}

/** Whether Prisma ended an interactive transaction that outlasted its timeout (P2028); its later statements fail with unrelated errors. */
export function isTransactionExpired(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'P2028'
}

/**
 * Whether PostgreSQL refused the rows themselves (a data exception, a constraint, a value over a
 * limit): retrying would fail forever, so the flush isolates the rows at fault. Anything else (the
 * server down, a timeout, a serialization failure) is transient: the batch stays and is retried.
 */
export function isRowRejection(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code.startsWith('54'))
}

/** A one-line description of a database error for logs and dead letters. */
export function describeSqlError(error: unknown): string {
  const code = sqlState(error)
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalMessage?: string; detail?: string } } } }).meta?.driverAdapterError?.cause
  const message = cause?.originalMessage ?? (error instanceof Error ? error.message.trim().split('\n').at(-1) : String(error))
  return [code, message, cause?.detail && `(${cause.detail})`].filter(Boolean).join(' ')
}
