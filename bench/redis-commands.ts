import type { Redis } from 'ioredis'

/** Redis's own time by command (INFO commandstats: a script's calls inside it count in its EVALSHA and again by command). */
export type CommandStats = Map<string, { calls: number; usec: number }>

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats')
  return new Map(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].map(([, command, calls, usec]) => [command!, { calls: Number(calls), usec: Number(usec) }]),
  )
}

/** Calls and µs of Redis time per job between two readings, the costliest commands first (whatever else Redis served counts too). */
export function perJob(before: CommandStats, after: CommandStats, jobs: number, count = 8): { command: string; callsPerJob: number; usPerJob: number }[] {
  return [...after]
    .map(([command, { calls, usec }]) => ({
      command,
      callsPerJob: +((calls - (before.get(command)?.calls ?? 0)) / jobs).toFixed(2),
      usPerJob: +((usec - (before.get(command)?.usec ?? 0)) / jobs).toFixed(1),
    }))
    .filter((entry) => entry.usPerJob > 0)
    .sort((a, b) => b.usPerJob - a.usPerJob)
    .slice(0, count)
}
