import type { BenchResults } from './bench-results.ts'
import type { ProfileSummary } from './cpu-profile.ts'
import type { perJob } from './redis-commands.ts'

const parts = (profile: ProfileSummary) => profile.parts.map(({ part, percent }) => `${part} ${percent}%`).join(', ')
const functions = (profile: ProfileSummary, count: number) =>
  profile.functions
    .slice(0, count)
    .map(({ function: name, percent }) => `    ${`${percent}%`.padStart(6)}  ${name}`)
    .join('\n')
const commands = (entries: ReturnType<typeof perJob>, unit: string) =>
  entries.map(({ command, callsPerJob, usPerJob }) => `${command} ${usPerJob} µs (${callsPerJob} calls)`).join(', ') + ` per ${unit}`

/** Where the time of the missed figures went, from this run's own profiles and Redis's counters. */
export function formatProfiles(results: BenchResults): string {
  const { conductorCapacity, rawQueue, reads } = results
  return [
    `Where the time went, this run:`,
    `- conductor capacity drain, the conductor process's CPU profile (${conductorCapacity.profile.busy} busy samples): ${parts(conductorCapacity.profile)}`,
    functions(conductorCapacity.profile, 8),
    `- the same drain, Redis: ${commands(conductorCapacity.redisCommands, 'job')}`,
    `- raw queue drain (no-op worker), Redis: ${commands(rawQueue.redisCommands, 'job')}`,
    `- HTTP cached reads at the maximum, the API process's CPU profile (${reads.httpProfile.busy} busy samples): ${parts(reads.httpProfile)}`,
    functions(reads.httpProfile, 8),
    `- read queue at 50%: the bench process's event-loop delay p50 ${reads.readQueueAt50.eventLoopDelay.p50} ms, p99 ${reads.readQueueAt50.eventLoopDelay.p99} ms, max ${reads.readQueueAt50.eventLoopDelay.max} ms; Redis: ${commands(reads.readQueueAt50.redisCommands, 'read')}`,
  ].join('\n')
}
