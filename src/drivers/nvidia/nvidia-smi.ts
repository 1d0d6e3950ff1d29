import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Logger } from 'pino'
import { PciAddress } from '../pci/pci-address.ts'

const run = promisify(execFile)

/** One GPU's sample; a field nvidia-smi answers "[N/A]" or "[Not Supported]" for is left out. */
export interface GpuSample {
  utilization_percent?: number
  memory_used_mib?: number
  power_w?: number
  temperature_c?: number
}

/** The fields asked for, in the order the CSV answers them; the first is the GPU's PCI address. */
const QUERY = ['pci.bus_id', 'utilization.gpu', 'memory.used', 'power.draw', 'temperature.gpu'] as const
const METRICS = ['utilization_percent', 'memory_used_mib', 'power_w', 'temperature_c'] as const

/** A hung driver must not stall the usage reports: nvidia-smi gets this long. */
const TIMEOUT_MS = 10_000

/**
 * Usage of the GPUs the NVIDIA driver runs, from `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`.
 * A GPU passed through to a guest (bound to vfio-pci) is not listed. Without the tool it answers
 * null and says so once; a failing tool is logged each time.
 */
export class NvidiaSmi {
  private missingReported = false

  constructor(
    private readonly log: Logger,
    private readonly command = 'nvidia-smi',
  ) {}

  /** Samples by PCI address ("0000:3b:00.0"); null when there is no nvidia-smi to ask. */
  async sample(): Promise<Map<string, GpuSample> | null> {
    let stdout: string
    try {
      ;({ stdout } = await run(this.command, [`--query-gpu=${QUERY.join(',')}`, '--format=csv,noheader,nounits'], { timeout: TIMEOUT_MS }))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        if (!this.missingReported) this.log.warn(`${this.command} not found; NVIDIA GPUs are reported without usage metrics`)
        this.missingReported = true
        return null
      }
      this.log.warn({ err: error }, `${this.command} failed; this round's GPU usage has accelerators_in_use only`)
      return new Map()
    }
    return new Map(stdout.split('\n').flatMap((line) => parseLine(line)))
  }
}

/** "00000000:3B:00.0, 37, 1024, 70.12, 45" → ["0000:3b:00.0", {...}]; nvidia-smi writes an 8-digit domain. */
function parseLine(line: string): [string, GpuSample][] {
  const [busId = '', ...values] = line.split(',').map((field) => field.trim())
  const address = PciAddress.parse(busId.replace(/^[\da-f]{4}(?=[\da-f]{4}:)/i, ''))
  if (!address) return []
  const sample: GpuSample = {}
  METRICS.forEach((metric, index) => {
    const value = Number(values[index])
    if (values[index] !== undefined && values[index] !== '' && Number.isFinite(value)) sample[metric] = value
  })
  return [[address.toString(), sample]]
}
