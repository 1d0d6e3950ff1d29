import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import type { AcceleratorDriver } from './accelerator-driver.ts'
import { DriverSet } from './driver-set.ts'
import { DummyDriver, type DummyDriverOptions } from './dummy/dummy-driver.ts'
import { NvidiaGpuDriver, isNvidiaGpu } from './nvidia/nvidia-gpu-driver.ts'
import { NvidiaSmi } from './nvidia/nvidia-smi.ts'
import { PciDriver } from './pci/pci-driver.ts'
import { PciWhitelist } from './pci/pci-whitelist.ts'
import { SysfsPciBus } from './pci/sysfs-pci-bus.ts'
import { UnknownDriverError } from './unknown-driver-error.ts'

/** What a driver is built from: the host, the agent's configuration, and the dummy driver's own options. */
export interface DriverContext {
  hostname: string
  config: Pick<Config, 'SYSFS_ROOT' | 'PCI_PASSTHROUGH_WHITELIST'>
  log: Logger
  dummy?: Omit<DummyDriverOptions, 'hostname'>
  /** Every driver enabled beside this one, by canonical name. */
  enabled: ReadonlySet<string>
}

type DriverFactory = (context: DriverContext) => AcceleratorDriver

/** The drivers an agent can load, by the names AGENT_DRIVERS uses. */
const FACTORIES: Record<string, DriverFactory> = {
  fake: ({ hostname, dummy }) => new DummyDriver({ hostname, ...dummy }),
  nvidia_gpu: ({ hostname, config, log }) =>
    new NvidiaGpuDriver({
      hostname,
      bus: new SysfsPciBus(config.SYSFS_ROOT),
      whitelist: config.PCI_PASSTHROUGH_WHITELIST ?? new PciWhitelist(),
      smi: new NvidiaSmi(log),
      log,
    }),
  pci: ({ hostname, config, log, enabled }) =>
    new PciDriver({
      hostname,
      bus: new SysfsPciBus(config.SYSFS_ROOT),
      whitelist: config.PCI_PASSTHROUGH_WHITELIST ?? new PciWhitelist(),
      // With nvidia_gpu enabled its GPUs are its own; reported twice, the host's snapshot would be refused.
      exclude: enabled.has('nvidia_gpu') ? isNvidiaGpu : undefined,
      log,
    }),
}

/** Cyborg's names for the same drivers ([agent] enabled_drivers, its setup entry points). */
const CYBORG_NAMES: Record<string, string> = { fake_driver: 'fake', nvidia_gpu_driver: 'nvidia_gpu', pci_driver: 'pci' }

/**
 * Loads accelerator drivers by name, as Cyborg's agent loads its enabled_drivers. An unknown name
 * throws an UnknownDriverError listing the known ones, before anything is built.
 */
export class DriverRegistry {
  static readonly names = [...Object.keys(FACTORIES), ...Object.keys(CYBORG_NAMES)]

  /** The canonical name of a driver ("nvidia_gpu_driver" → "nvidia_gpu"), or undefined. */
  static canonical(name: string): string | undefined {
    return Object.hasOwn(FACTORIES, name) ? name : CYBORG_NAMES[name]
  }

  /** The named drivers as one; a name given twice (or under both spellings) loads once. */
  static load(names: string[], context: Omit<DriverContext, 'enabled'>): DriverSet {
    const unknown = names.filter((name) => DriverRegistry.canonical(name) === undefined)
    if (unknown.length > 0) throw new UnknownDriverError(unknown, DriverRegistry.names)
    const enabled = new Set(names.map((name) => DriverRegistry.canonical(name)!))
    return new DriverSet([...enabled].map((name) => FACTORIES[name]!({ ...context, enabled })))
  }
}
