import { performance } from 'node:perf_hooks'
import { summarize, type LatencySummary } from './latency-summary.ts'

export interface LoadResult {
  operations: number
  perSecond: number
  latency: LatencySummary
}

/** `concurrency` callers, each starting its next operation when the last one ends, for `seconds`. */
export async function closedLoop(seconds: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = []
  let next = 0
  const start = performance.now()
  const deadline = start + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const began = performance.now()
        await operation(next++)
        latencies.push(performance.now() - began)
      }
    }),
  )
  const elapsedS = (performance.now() - start) / 1000
  return { operations: latencies.length, perSecond: latencies.length / elapsedS, latency: summarize(latencies) }
}
