// What ioredis says when Redis does not answer: a command past its commandTimeout, a connection that
// is down or being re-established, or a command given up after its retries.
const UNAVAILABLE =
  /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries per request limit)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/

/** Whether the error means Redis could not be reached in time (the request may be retried), not a fault of the request. */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && UNAVAILABLE.test(error.message)
}
