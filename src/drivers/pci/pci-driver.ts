import type { Logger } from 'pino'
import type { DeviceType, DriverAttachHandle, DriverDevice } from '../../queues/contract/inventory.ts'
import type { AcceleratorDriver, DeployableStats } from '../accelerator-driver.ts'
import { RESOURCE_CLASSES } from '../resource-classes.ts'
import type { PciAddress } from './pci-address.ts'
import type { PciDeviceSpec } from './pci-device-spec.ts'
import {
  GUEST_DRIVER,
  OWNER_CYBORG,
  cyborgAttributes,
  deployableName,
  deviceTypeOfClass,
  stdBoardInfo,
  vendorBoardInfo,
  vendorName,
} from './pci-device-info.ts'
import type { PciWhitelist } from './pci-whitelist.ts'
import type { PciFunction, SysfsPciBus } from './sysfs-pci-bus.ts'

export interface PciDriverOptions {
  hostname: string
  bus: SysfsPciBus
  whitelist: PciWhitelist
  /** Functions another enabled driver reports (NVIDIA GPUs under nvidia_gpu): never reported twice. */
  exclude?: (fn: PciFunction) => boolean
  log: Logger
}

/** The functions guests get of one reported device, remembered for usage sampling. */
interface OfferedDevice {
  deployableName: string
  functions: PciAddress[]
}

/**
 * Cyborg's generic PCI driver (pci/pci): every whitelisted PCI device (an FPGA, a QAT card, a NIC)
 * is a device with one deployable. A physical function with SR-IOV enabled offers its whitelisted
 * virtual functions, one PCI attach handle each; any other function offers itself. The whitelist
 * entry's tags give the device type and resource class.
 */
export class PciDriver implements AcceleratorDriver {
  private offered: OfferedDevice[] = []
  private readonly warned = new Set<string>()

  constructor(private readonly options: PciDriverOptions) {}

  async discover(): Promise<DriverDevice[]> {
    const functions = await this.options.bus.functions()
    const byAddress = new Map(functions.map((fn) => [fn.address.toString(), fn]))
    // Whitelisted functions by the device that owns them: a VF's physical function, or itself.
    const groups = new Map<string, { owner: PciFunction; spec: PciDeviceSpec; members: PciFunction[] }>()
    for (const fn of functions) {
      if (this.options.exclude?.(fn)) continue
      const spec = this.options.whitelist.specFor({
        vendorId: fn.vendorId,
        productId: fn.productId,
        address: fn.address.toString(),
        parentAddress: fn.physfn?.toString() ?? null,
      })
      if (!spec) continue
      const owner = (fn.physfn && byAddress.get(fn.physfn.toString())) || fn
      const group = groups.get(owner.address.toString()) ?? { owner, spec, members: [] }
      if (owner === fn) group.spec = spec
      group.members.push(fn)
      groups.set(owner.address.toString(), group)
    }
    const devices = [...groups.values()].flatMap(({ owner, spec, members }) => {
      // A PF with VFs enabled stays with the host's driver; its VFs are what guests get.
      const offered = owner.virtfns.length > 0 ? members.filter((fn) => fn !== owner) : [owner]
      const type = spec.deviceType ?? deviceTypeOfClass(owner.classCode)
      if (offered.length === 0) {
        this.warnOnce(
          owner.address.toString(),
          { address: owner.address.toString() },
          'SR-IOV is enabled on this physical function and none of its virtual functions is whitelisted; device not reported',
        )
        return []
      }
      if (!type) {
        this.warnOnce(
          owner.address.toString(),
          { address: owner.address.toString(), class: owner.classCode },
          'PCI class names no device type; give the whitelist entry a device_type tag; device not reported',
        )
        return []
      }
      return [{ owner, type, resourceClass: spec.resourceClass ?? RESOURCE_CLASSES[type], offered }]
    })
    this.offered = devices.map(({ owner, offered }) => ({
      deployableName: deployableName(this.options.hostname, owner.address),
      functions: offered.map((fn) => fn.address),
    }))
    return devices.map(({ owner, type, resourceClass, offered }) => this.device(owner, type, resourceClass, offered))
  }

  async update(): Promise<boolean> {
    return false
  }

  /** How many offered functions guests hold now, per deployable of the last discovery. */
  async getStats(): Promise<DeployableStats[]> {
    return Promise.all(
      this.offered.map(async ({ deployableName, functions }) => {
        const drivers = await Promise.all(functions.map((address) => this.options.bus.driverOf(address)))
        return { deployableName, metrics: { accelerators_in_use: drivers.filter((driver) => driver === GUEST_DRIVER).length } }
      }),
    )
  }

  private device(owner: PciFunction, type: DeviceType, resourceClass: string, offered: PciFunction[]): DriverDevice {
    const vendor = vendorName(owner.vendorId)
    // cyborg/accelerator/drivers/pci/pci/sysinfo.py _get_traits
    const traits = [OWNER_CYBORG, ...(vendor ? [`CUSTOM_PCI_${vendor.toUpperCase()}`] : []), `CUSTOM_PCI_PRODUCT_ID_${owner.productId.toUpperCase()}`]
    const handles: DriverAttachHandle[] = offered.map((fn) => ({ attach_type: 'PCI', attach_info: fn.address.toCyborgJson(), in_use: false }))
    return {
      type,
      vendor: owner.vendorId,
      model: owner.productId,
      std_board_info: stdBoardInfo(owner),
      vendor_board_info: vendorBoardInfo(owner),
      stub: false,
      controlpath_id: { cpid_type: 'PCI', cpid_info: owner.address.toCyborgJson() },
      deployable_list: [
        {
          name: deployableName(this.options.hostname, owner.address),
          num_accelerators: handles.length,
          driver_name: (vendor ?? owner.vendorId).toUpperCase(),
          bitstream_id: null,
          attribute_list: cyborgAttributes(resourceClass, traits),
          attach_handle_list: handles,
        },
      ],
    }
  }

  private warnOnce(key: string, fields: object, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.options.log.warn(fields, message)
  }
}
