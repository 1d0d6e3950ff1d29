import type { Logger } from 'pino'
import type { AcceleratorDriver } from '../drivers/accelerator-driver.ts'
import type { ConductorClient } from '../queues/client/conductor-client.ts'
import { deployableUuid } from '../queues/contract/name-uuid.ts'
import { BackPressureError } from '../queues/client/back-pressure-error.ts'

/** What an agent sends through: the conductor's client, or anything that takes the same two calls. */
export type AgentTransport = Pick<ConductorClient, 'reportInventory' | 'castBatch'>

export interface AgentOptions {
  hostname: string
  driver: AcceleratorDriver
  /** The agent holds no database credentials: it reaches the conductor through Redis only. */
  client: AgentTransport
  reportIntervalMs: number
  usageIntervalMs: number
  log: Logger
}

/**
 * Cyborg's agent on one compute host: a full inventory snapshot at start and then periodically, and
 * every few seconds one `write-batch` of usage carrying every deployable of the host.
 */
export class Agent {
  private readonly timers: NodeJS.Timeout[] = []
  private readonly running = new Set<Promise<unknown>>()
  private lastVersion = 0
  /** Set by back-pressure: no report before this time (the conductor's Retry-After). */
  private quietUntil = 0

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    await this.reportInventory()
    await this.reportUsage()
    this.every(this.options.reportIntervalMs, () => this.reportInventory())
    this.every(this.options.usageIntervalMs, () => this.reportUsage())
  }

  /** Sends the host's full snapshot; resolves to the reconciling job's id. */
  async reportInventory(): Promise<string> {
    const devices = await this.options.driver.discover()
    return this.options.client.reportInventory({ hostname: this.options.hostname, version: this.nextVersion(), devices })
  }

  /** Sends the usage of every deployable of the host as one `write-batch`; resolves to its job id. */
  async reportUsage(): Promise<string | undefined> {
    const stats = await this.options.driver.getStats()
    if (stats.length === 0) return undefined
    const version = this.nextVersion()
    return this.options.client.castBatch(
      stats.map(({ deployableName, metrics }) => ({ entity: 'usage', key: deployableUuid(deployableName), version, value: metrics })),
    )
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    await Promise.allSettled(this.running)
  }

  /**
   * Runs `report` every `intervalMs`, skipping a beat rather than overlapping a slow report. When the
   * conductor pushes back, every report waits its Retry-After: the next one carries newer values anyway.
   */
  private every(intervalMs: number, report: () => Promise<unknown>): void {
    let busy = false
    this.timers.push(
      setInterval(() => {
        if (busy || Date.now() < this.quietUntil) return
        busy = true
        const run = report()
          .catch((error: unknown) => {
            if (error instanceof BackPressureError) {
              this.quietUntil = Date.now() + error.retryAfterSeconds * 1000
              this.options.log.info(
                { hostname: this.options.hostname, retryAfterSeconds: error.retryAfterSeconds, reason: error.message },
                'the conductor is behind; backing off',
              )
            } else this.options.log.warn({ err: error, hostname: this.options.hostname }, 'report failed; retrying at the next interval')
          })
          .finally(() => {
            busy = false
            this.running.delete(run)
          })
        this.running.add(run)
      }, intervalMs),
    )
  }

  /** Report versions: milliseconds, strictly increasing even within one millisecond. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1)
    return this.lastVersion
  }
}
