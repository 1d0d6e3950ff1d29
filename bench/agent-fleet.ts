import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { Agent, type AgentTransport } from '../src/agent/agent.ts'
import { DummyDriver } from '../src/drivers/dummy/dummy-driver.ts'
import { deployableUuid } from '../src/queues/contract/name-uuid.ts'

export interface FleetOptions {
  /** Host names are `<hostPrefix>-<n>`, so the usage keys belong to this run alone. */
  hostPrefix: string
  agents: number
  devices: number
  transport: AgentTransport
  log: Logger
}

export interface PacedOutcome {
  reports: number
  /** Beats an agent skipped because its previous report had not finished (as Agent's own timer does). */
  skipped: number
  failed: number
}

// The agents' own timers never fire: the fleet drives their reports on one clock.
const NEVER_MS = 2 ** 31 - 1

/** Simulated compute hosts: one Agent with the dummy driver each, reporting usage on the fleet's clock. */
export class AgentFleet {
  private readonly agents: Agent[]

  constructor(private readonly options: FleetOptions) {
    this.agents = fleetDrivers(options).map(
      (driver, n) =>
        new Agent({
          hostname: hostname(options, n),
          driver,
          client: options.transport,
          reportIntervalMs: NEVER_MS,
          usageIntervalMs: NEVER_MS,
          log: options.log,
        }),
    )
  }

  /** Every agent reports once, all at the same time. */
  async reportOnce(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.reportUsage()))
  }

  /**
   * `rounds` reports per agent, one every `intervalMs`, the agents spread evenly over the interval
   * as unsynchronised hosts are.
   */
  async runPaced(rounds: number, intervalMs: number): Promise<PacedOutcome> {
    const outcome: PacedOutcome = { reports: 0, skipped: 0, failed: 0 }
    const busy = new Set<number>()
    const running = new Set<Promise<void>>()
    const start = performance.now()
    const spacing = intervalMs / this.agents.length
    for (let round = 0; round < rounds; round++) {
      for (let n = 0; n < this.agents.length; n++) {
        const wait = start + round * intervalMs + n * spacing - performance.now()
        if (wait >= 1) await sleep(wait)
        if (busy.has(n)) {
          outcome.skipped += 1
          continue
        }
        busy.add(n)
        outcome.reports += 1
        const report: Promise<void> = this.agents[n]!.reportUsage()
          .then(
            () => {},
            (error: unknown) => {
              if (outcome.failed++ === 0) this.options.log.error({ err: error }, 'a usage report failed (only the first is logged)')
            },
          )
          .finally(() => {
            busy.delete(n)
            running.delete(report)
          })
        running.add(report)
      }
    }
    await Promise.all(running)
    return outcome
  }
}

type FleetShape = Pick<FleetOptions, 'hostPrefix' | 'agents' | 'devices'>

/** The usage keys (deployable uuids) a fleet of this shape writes. */
export async function fleetKeys(shape: FleetShape): Promise<string[]> {
  const devices = (await Promise.all(fleetDrivers(shape).map((driver) => driver.discover()))).flat()
  return devices.flatMap((device) => device.deployable_list.map((deployable) => deployableUuid(deployable.name)))
}

function fleetDrivers(shape: FleetShape): DummyDriver[] {
  return Array.from({ length: shape.agents }, (_, n) => new DummyDriver({ hostname: hostname(shape, n), devices: shape.devices, seed: n + 1 }))
}

function hostname(options: FleetShape, n: number): string {
  return `${options.hostPrefix}-${n}`
}
