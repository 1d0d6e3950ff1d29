/** The first retry of a sync waits this long; each further one twice as long, up to PLACEMENT_RETRY_MAX_MS. */
const FIRST_RETRY_MS = 500

/** Exponential back-off with jitter (half to all of the delay), so hosts that failed together do not retry together. */
export function placementBackoffMs(attemptsMade: number, maxMs: number): number {
  const delay = Math.min(maxMs, FIRST_RETRY_MS * 2 ** Math.max(0, attemptsMade - 1))
  return Math.round(delay / 2 + (Math.random() * delay) / 2)
}
