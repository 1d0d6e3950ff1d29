/**
 * No conductor answered a read or command within its deadline. The job stays queued: a command
 * may still be carried out later, so the caller cannot tell whether it was.
 */
export class ConductorTimeoutError extends Error {
  override name = 'ConductorTimeoutError'

  constructor(
    readonly jobName: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`timed out: no conductor answered ${jobName} within ${timeoutMs} ms`, options)
  }
}
