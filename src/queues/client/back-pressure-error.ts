/** The conductor is behind: nothing was enqueued; the producer waits `retryAfterSeconds` and sends again. */
export class BackPressureError extends Error {
  override name = 'BackPressureError'

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
}
