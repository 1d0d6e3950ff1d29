export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

/** Percentiles (nearest rank) of latencies in milliseconds. */
export function summarize(latencies: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latencies).sort()
  const rank = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!)
  return { count: sorted.length, p50: rank(0.5), p99: rank(0.99), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]! }
}
