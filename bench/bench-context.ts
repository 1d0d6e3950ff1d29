import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Config } from '../src/config.ts'
import type { BenchDatabase } from './bench-database.ts'
import type { BenchOptions } from './bench-options.ts'
import type { Progress } from './progress.ts'

/** What every phase of one run shares. */
export interface BenchContext {
  options: BenchOptions
  /** The conductor's configuration: the bench database, the run's own prefix, the flush settings of the run. */
  config: Config
  db: BenchDatabase
  redis: Redis
  log: Logger
  progress: Progress
  /** Agents' host names start with it, so the usage keys are the run's own. */
  hostPrefix: string
  keys: string[]
}

/** True once a queue has nothing waiting, delayed or running. */
export async function queueIdle(queue: Queue): Promise<boolean> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
  return Object.values(counts).every((count) => count === 0)
}
