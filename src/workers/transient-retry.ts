import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import type { Logger } from 'pino'

export interface TransientRetrySettings {
  /** The first back-off; each later one doubles, up to `maxDelayMs`. */
  firstDelayMs: number
  maxDelayMs: number
  /** How long after its job was added a write may still be retried (WRITE_RETRY_HOURS). */
  giveUpAfterMs: number
}

/** Keeps a job's data once it can no longer be retried, where operators find it. */
export type GiveUp = (job: Job, reason: string) => Promise<void>

type Processor = (job: Job, token?: string) => Promise<unknown>

/**
 * An acknowledged write is never dropped by a transient condition. A job whose processor fails for
 * any reason but its own data (back-pressure, PostgreSQL down or hung, Redis trouble) goes back to
 * the delayed set with a back-off and BullMQ's DelayedError, which does not use up one of its
 * attempts; once it has waited `giveUpAfterMs` since it was added, its data is handed to `giveUp`
 * (dead-lettered) and the job fails for good.
 */
export class TransientRetry {
  constructor(
    private readonly inner: Processor,
    private readonly settings: TransientRetrySettings,
    private readonly giveUp: GiveUp,
    private readonly log: Logger,
  ) {}

  readonly process = async (job: Job, token?: string): Promise<unknown> => {
    try {
      return await this.inner(job, token)
    } catch (error) {
      if (error instanceof UnrecoverableError) throw error
      const reason = error instanceof Error ? error.message : String(error)
      const waitedMs = Date.now() - job.timestamp
      if (waitedMs >= this.settings.giveUpAfterMs) {
        await this.giveUp(job, reason)
        throw new UnrecoverableError(`dead-lettered after ${Math.round(waitedMs / 1000)} s of retries (WRITE_RETRY_HOURS): ${reason}`)
      }
      const delayMs = this.delayMs(job.attemptsStarted)
      this.log.debug({ queue: job.queueName, job: job.id, retryInMs: delayMs, reason }, 'transient failure; the job waits and is retried')
      // Why it waits, where Bull Board shows it (the job's progress), replaced at each retry.
      await job.updateProgress({ retrying: reason, retryInMs: delayMs })
      await job.moveToDelayed(Date.now() + delayMs, token)
      throw new DelayedError(reason)
    }
  }

  /** `firstDelayMs` doubled for each start of the job before this one, at most `maxDelayMs`. */
  delayMs(attemptsStarted: number): number {
    const doublings = Math.min(30, Math.max(0, attemptsStarted - 1))
    return Math.min(this.settings.maxDelayMs, this.settings.firstDelayMs * 2 ** doublings)
  }
}
