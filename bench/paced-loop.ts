import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadResult } from './closed-loop.ts'
import { summarize } from './latency-summary.ts'

/**
 * An open loop: operations start at `ratePerSecond` on a fixed schedule for `seconds`, whether or
 * not earlier ones have finished, and each latency counts from its scheduled start, so a stall
 * shows in the tail instead of slowing the offer (no coordinated omission).
 */
export async function pacedLoop(seconds: number, ratePerSecond: number, operation: (index: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = []
  const running: Promise<void>[] = []
  const spacingMs = 1000 / ratePerSecond
  const total = Math.max(1, Math.round(seconds * ratePerSecond))
  const start = performance.now()
  for (let index = 0; index < total; index++) {
    const scheduled = start + index * spacingMs
    const wait = scheduled - performance.now()
    // Timers are coarse (~1 ms): operations due within the next millisecond start together.
    if (wait >= 1) await sleep(wait)
    running.push(operation(index).then(() => void latencies.push(performance.now() - scheduled)))
  }
  await Promise.all(running)
  const elapsedS = (performance.now() - start) / 1000
  return { operations: latencies.length, perSecond: latencies.length / elapsedS, latency: summarize(latencies) }
}
