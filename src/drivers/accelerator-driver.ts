import type { DriverDevice } from '../queues/contract/inventory.ts'

/**
 * Usage metrics of one deployable, sampled by its driver: the value of a `usage` write. Only the count
 * in use is always known; a real driver leaves out what its hardware does not tell (a GPU passed
 * through to a guest is invisible to nvidia-smi).
 */
export interface UsageMetrics {
  accelerators_in_use: number
  utilization_percent?: number
  memory_used_mib?: number
  power_w?: number
  temperature_c?: number
}

export interface DeployableStats {
  deployableName: string
  metrics: UsageMetrics
}

/** What Cyborg's agent asks of an accelerator driver (cyborg/accelerator/drivers/driver.py). */
export interface AcceleratorDriver {
  /** Every device of the host, with its deployables, attributes and attach handles. */
  discover(): Promise<DriverDevice[]>
  /** Programs a device (an FPGA bitstream, for example); true when done. */
  update(controlPath: DriverDevice['controlpath_id'], imagePath: string): Promise<boolean>
  /** Usage of every deployable, sampled now. */
  getStats(): Promise<DeployableStats[]>
}
