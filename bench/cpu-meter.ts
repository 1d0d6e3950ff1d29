import { readFile } from 'node:fs/promises'
import type { Redis } from 'ioredis'

/** CPU seconds (user + system) spent so far by one party of a drain. */
export type CpuClock = () => Promise<number>

// Linux counts a process's CPU time in clock ticks of 1/100 s (USER_HZ, 100 on every Linux port).
const TICKS_PER_SECOND = 100

/** This process (process.cpuUsage): the bench itself, or a worker it runs in process. */
export const ownCpu: CpuClock = async () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/** A child process, from /proc/<pid>/stat (utime and stime): what process.cpuUsage would say inside it. */
export function processCpu(pid: number): CpuClock {
  return async () => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  }
}

/** The Redis server's CPU (INFO cpu: used_cpu_user + used_cpu_sys), whatever it served. */
export function redisCpu(redis: Redis): CpuClock {
  return async () => {
    const info = await redis.info('cpu')
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
    return field('used_cpu_user') + field('used_cpu_sys')
  }
}

/** CPU seconds of several clocks, read together. */
export async function readClocks(clocks: CpuClock[]): Promise<number[]> {
  return Promise.all(clocks.map((clock) => clock()))
}
