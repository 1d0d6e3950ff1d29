import type { Logger } from 'pino'
import type { ConductorClient } from '../queues/client/conductor-client.ts'

export interface ConductorWatchOptions {
  client: Pick<ConductorClient, 'agentQueueWorkers'>
  /** How long a conductor may take to appear before the agent warns, and how often it looks again. */
  waitMs: number
  /** Where the agent sends, in words: the queue prefix and the Redis, for an operator to compare with the conductor's. */
  prefix: string
  redis: string
  log: Logger
}

/**
 * Tells an operator when an agent reports into queues no conductor takes jobs from (a wrong
 * CONDUCTOR_PREFIX or Redis, or no conductor running): a warning after a bounded wait, and a line
 * when one appears. Agents only produce jobs, so nothing else would ever say so.
 */
export class ConductorWatch {
  private timer: NodeJS.Timeout | undefined
  /** Whether the last check found no worker on some queue once the wait was over (and warned). */
  private warned = false
  private checking: Promise<void> | undefined

  constructor(private readonly options: ConductorWatchOptions) {}

  /** Checks now and every `waitMs`; the first check after the wait warns if a queue has no worker. */
  start(): void {
    const deadline = Date.now() + this.options.waitMs
    const poll = (): void => {
      this.checking = this.check(Date.now() >= deadline).finally(() => {
        if (this.timer) this.timer = setTimeout(poll, this.options.waitMs)
      })
    }
    this.timer = setTimeout(poll, 0)
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.checking
  }

  private async check(waitedEnough: boolean): Promise<void> {
    const { client, log, prefix, redis, waitMs } = this.options
    let workers: Record<string, number>
    try {
      workers = await client.agentQueueWorkers()
    } catch (error) {
      log.debug({ err: error }, 'cannot count the conductor workers')
      return
    }
    const idle = Object.keys(workers).filter((queue) => workers[queue] === 0)
    if (idle.length === 0) {
      if (this.warned) log.info({ prefix, redis, workers }, 'a conductor now takes this agent’s jobs')
      this.warned = false
    } else if (waitedEnough && !this.warned) {
      this.warned = true
      log.warn(
        { prefix, redis, queues: idle },
        `no conductor serves this agent’s queues: after ${waitMs / 1000} s no worker takes jobs from ${idle.join(' and ')} ` +
          `with prefix ${prefix} on ${redis}. Start a conductor there, or give the agent its CONDUCTOR_PREFIX and REDIS_URL.`,
      )
    }
  }
}
