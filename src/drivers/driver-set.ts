import type { DriverDevice } from '../queues/contract/inventory.ts'
import type { AcceleratorDriver, DeployableStats } from './accelerator-driver.ts'

/**
 * The drivers enabled on one agent, seen as one driver: the host's snapshot is every driver's
 * devices. A driver that fails fails the whole discovery, since a snapshot without its devices would
 * delete them from the inventory.
 */
export class DriverSet implements AcceleratorDriver {
  /** Which driver reported each control path, so an update reaches the one that owns the device. */
  private owners = new Map<string, AcceleratorDriver>()

  constructor(readonly drivers: AcceleratorDriver[]) {}

  async discover(): Promise<DriverDevice[]> {
    const found = await Promise.all(this.drivers.map(async (driver) => ({ driver, devices: await driver.discover() })))
    this.owners = new Map(found.flatMap(({ driver, devices }) => devices.map((device) => [device.controlpath_id.cpid_info, driver] as const)))
    return found.flatMap(({ devices }) => devices)
  }

  async update(controlPath: DriverDevice['controlpath_id'], imagePath: string): Promise<boolean> {
    return (await this.owners.get(controlPath.cpid_info)?.update(controlPath, imagePath)) ?? false
  }

  async getStats(): Promise<DeployableStats[]> {
    return (await Promise.all(this.drivers.map((driver) => driver.getStats()))).flat()
  }
}
