import { summarize, type LatencySummary } from './latency-summary.ts'

interface Outstanding {
  version: number
  enqueuedAt: number
}

export interface SecondSample {
  /** Seconds since the tracker was reset. */
  second: number
  enqueued: number
  durable: number
  p50: number
  p99: number
}

/**
 * Measures accept→durable: the time from a write's enqueue to the commit that carries it, or carries
 * a newer version of its key (a write coalesced away is durable once its successor is).
 */
export class DurabilityTracker {
  private readonly outstanding = new Map<string, Outstanding[]>()
  private latencies: number[] = []
  private seconds: { enqueued: number; latencies: number[] }[] = []
  private startedAt = Date.now()
  enqueuedTotal = 0
  durableTotal = 0

  /** Starts measuring afresh; writes still outstanding are forgotten. */
  reset(): void {
    this.outstanding.clear()
    this.latencies = []
    this.seconds = []
    this.startedAt = Date.now()
    this.enqueuedTotal = 0
    this.durableTotal = 0
  }

  enqueued(key: string, version: number, at: number): void {
    let list = this.outstanding.get(key)
    if (!list) this.outstanding.set(key, (list = []))
    list.push({ version, enqueuedAt: at })
    this.enqueuedTotal += 1
    this.second(at).enqueued += 1
  }

  /** Each key's versions come from one agent in increasing order, so the outstanding ones are resolved oldest first. */
  durable(key: string, version: number, at: number): void {
    const list = this.outstanding.get(key)
    if (!list) return
    let resolved = 0
    while (resolved < list.length && list[resolved]!.version <= version) {
      const latency = at - list[resolved]!.enqueuedAt
      this.latencies.push(latency)
      this.second(at).latencies.push(latency)
      resolved += 1
    }
    list.splice(0, resolved)
    this.durableTotal += resolved
  }

  summary(): LatencySummary {
    return summarize(this.latencies)
  }

  timeline(): SecondSample[] {
    // Array.from, not map: a second with nothing in it is a hole in the array.
    return Array.from({ length: this.seconds.length }, (_, second) => {
      const bucket = this.seconds[second]
      const { p50, p99 } = summarize(bucket?.latencies ?? [])
      return { second, enqueued: bucket?.enqueued ?? 0, durable: bucket?.latencies.length ?? 0, p50, p99 }
    })
  }

  private second(at: number) {
    const index = Math.max(0, Math.floor((at - this.startedAt) / 1000))
    return (this.seconds[index] ??= { enqueued: 0, latencies: [] })
  }
}
