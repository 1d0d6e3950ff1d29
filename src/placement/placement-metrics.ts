import { Counter, Gauge, type Registry } from 'prom-client'
import type { RequestOutcome } from './placement-client.ts'

/** How a host's sync attempt ended. */
export type SyncOutcome = 'changed' | 'unchanged' | 'no_compute_node' | 'failed'

/** The Placement sync's Prometheus metrics, in the conductor's registry (served at GET /metrics). */
export class PlacementMetrics {
  private readonly requests: Counter<'method' | 'outcome'>
  private readonly syncs: Counter<'outcome'>
  private readonly conflicts: Counter
  private readonly lag: Gauge<'host'>

  constructor(registry: Registry, providerCount: () => Promise<number>) {
    const registers = [registry]
    this.requests = new Counter({
      name: 'cyborg_placement_requests_total',
      help: 'Placement calls this process made, by HTTP method and outcome (ok, not_found, conflict, client_error, server_error, unreachable)',
      labelNames: ['method', 'outcome'],
      registers,
    })
    this.syncs = new Counter({
      name: 'cyborg_placement_syncs_total',
      help: "Attempts of a host's Placement sync, by outcome: changed, unchanged (no write), no_compute_node (Nova's provider missing; retried), failed (retried)",
      labelNames: ['outcome'],
      registers,
    })
    this.conflicts = new Counter({
      name: 'cyborg_placement_generation_conflicts_total',
      help: 'Provider writes refused for a stale generation (another writer changed the provider): re-read and retried',
      registers,
    })
    this.lag = new Gauge({
      name: 'cyborg_placement_sync_lag_seconds',
      help: 'Per host: from the first snapshot its last sync covered being queued to Placement holding it',
      labelNames: ['host'],
      registers,
    })
    new Gauge({
      name: 'cyborg_placement_providers',
      help: 'Resource providers the conductors of this prefix manage in Placement (read from Redis at each scrape)',
      registers,
      async collect() {
        this.set(await providerCount())
      },
    })
  }

  request(method: string, outcome: RequestOutcome): void {
    this.requests.inc({ method, outcome })
  }

  sync(outcome: SyncOutcome): void {
    this.syncs.inc({ outcome })
  }

  generationConflict(): void {
    this.conflicts.inc()
  }

  synced(hostname: string, lagSeconds: number): void {
    this.lag.set({ host: hostname }, lagSeconds)
  }
}
