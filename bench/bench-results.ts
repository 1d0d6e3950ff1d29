import type { BenchOptions } from './bench-options.ts'
import type { ConductorDrain, DrainResult } from './phases/capacity-phase.ts'
import type { DirectCapacity } from './phases/direct-capacity-phase.ts'
import type { ConductorFigures } from './phases/conductor-phase.ts'
import type { PacedResult } from './phases/paced-phase.ts'
import type { ReadFigures } from './phases/read-phase.ts'
import type { UnnestBaseline } from './phases/unnest-baseline.ts'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  redis: string
  postgres: string
  /** 1-minute load average at the start and at the end: other work on the machine shows here. */
  loadAverage: { start: number; end: number }
}

/** Everything one run measured; written as bench/results/<time>.json. */
export interface BenchResults {
  startedAt: string
  options: BenchOptions
  machine: Machine
  direct: PacedResult<void>
  conductor: PacedResult<ConductorFigures>
  rawQueue: DrainResult
  conductorCapacity: ConductorDrain
  directCapacity: DirectCapacity
  reads: ReadFigures
  unnest: UnnestBaseline
  redisUsedMemoryAtEnd: number
}
