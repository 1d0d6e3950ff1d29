/** A call to a peer that did not answer in time. */
export class DeadlineError extends Error {
  override name = 'DeadlineError'
}

/**
 * Settles like `work`, or rejects once `ms` pass first: with a DeadlineError saying `what` did not
 * finish, or with the error `expired` makes. The work itself goes on (its own timeouts end it); the
 * caller stops waiting for it.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, expired: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(typeof expired === 'string' ? new DeadlineError(`${expired} did not finish within ${ms} ms`) : expired()), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
