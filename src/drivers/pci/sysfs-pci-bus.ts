import { readdir, readFile, readlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { PciAddress } from './pci-address.ts'

/** One PCI function as sysfs shows it; ids are lower-case hex without "0x". */
export interface PciFunction {
  address: PciAddress
  vendorId: string
  productId: string
  /** The 24-bit class code, e.g. "030200" (3D controller). */
  classCode: string
  subsystemVendorId: string | null
  subsystemDeviceId: string | null
  /** null where the platform has no NUMA (sysfs says -1). */
  numaNode: number | null
  /** The kernel driver bound to it (nvidia, vfio-pci, qat_c62x ...), or null when none is. */
  driver: string | null
  iommuGroup: string | null
  /** SR-IOV: the physical function of a virtual function. */
  physfn: PciAddress | null
  /** SR-IOV: the enabled virtual functions of a physical function, in virtfnN order. */
  virtfns: PciAddress[]
  sriovTotalVfs: number | null
}

/** One mediated device type a PCI function offers (mdev_supported_types/<id>). */
export interface MdevType {
  id: string
  /** Its `name` file, e.g. "GRID T4-2B". */
  name: string
  availableInstances: number
  /** Mediated devices of this type already created on the function. */
  createdInstances: number
}

const VIRTFN = /^virtfn(\d+)$/

/**
 * Reads PCI functions from sysfs under a root (/sys on a host, a fixture tree in tests): every entry
 * of bus/pci/devices, following its links as the kernel lays them out. Facts come straight from the
 * attribute files and links, never from a tool's output.
 */
export class SysfsPciBus {
  constructor(private readonly root: string) {}

  /** Every PCI function of the host, in address order; a missing bus/pci/devices is an error (a wrong SYSFS_ROOT). */
  async functions(): Promise<PciFunction[]> {
    const directory = join(this.root, 'bus/pci/devices')
    const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot list PCI devices in ${directory} (is SYSFS_ROOT right?): ${error.code ?? error.message}`)
    })
    const addresses = names.map((name) => PciAddress.parse(name)).filter((address) => address !== null)
    const functions = await Promise.all(addresses.map((address) => this.read(address)))
    return functions.filter((fn) => fn !== null).sort((a, b) => a.address.toString().localeCompare(b.address.toString()))
  }

  /** The mdev types a function offers; none when it has no mdev_supported_types. */
  async mdevTypes(address: PciAddress): Promise<MdevType[]> {
    const directory = join(this.devicePath(address), 'mdev_supported_types')
    const ids = await readdir(directory).catch(() => [])
    const types = await Promise.all(
      ids.sort().map(async (id) => ({
        id,
        name: (await text(join(directory, id, 'name'))) ?? id,
        availableInstances: Number(await text(join(directory, id, 'available_instances'))) || 0,
        createdInstances: await this.createdMdevs(address, id),
      })),
    )
    return types
  }

  /** The kernel driver bound to a function now (vfio-pci while a guest has it), or null. */
  async driverOf(address: PciAddress): Promise<string | null> {
    return linkName(join(this.devicePath(address), 'driver'))
  }

  /** How many mediated devices of a type exist on a function now. */
  async createdMdevs(address: PciAddress, typeId: string): Promise<number> {
    return (await readdir(join(this.devicePath(address), 'mdev_supported_types', typeId, 'devices')).catch(() => [])).length
  }

  private devicePath(address: PciAddress): string {
    return join(this.root, 'bus/pci/devices', address.toString())
  }

  /** A function's facts; null when it vanished while being read (hot unplug). */
  private async read(address: PciAddress): Promise<PciFunction | null> {
    const path = this.devicePath(address)
    const [vendor = null, device = null, classCode = null] = await Promise.all(['vendor', 'device', 'class'].map((name) => text(join(path, name))))
    if (vendor === null || device === null || classCode === null) return null
    const entries = await readdir(path).catch(() => [])
    const virtfns = entries
      .map((entry) => ({ entry, index: Number(VIRTFN.exec(entry)?.[1] ?? NaN) }))
      .filter(({ index }) => !Number.isNaN(index))
      .sort((a, b) => a.index - b.index)
    const [subsystemVendor, subsystemDevice, numaNode, driver, iommuGroup, physfn, totalVfs, virtfnLinks] = await Promise.all([
      text(join(path, 'subsystem_vendor')),
      text(join(path, 'subsystem_device')),
      text(join(path, 'numa_node')),
      linkName(join(path, 'driver')),
      linkName(join(path, 'iommu_group')),
      linkName(join(path, 'physfn')),
      text(join(path, 'sriov_totalvfs')),
      Promise.all(virtfns.map(({ entry }) => linkName(join(path, entry)))),
    ])
    const numa = numaNode === null ? -1 : Number(numaNode)
    return {
      address,
      vendorId: hex(vendor),
      productId: hex(device),
      classCode: hex(classCode).padStart(6, '0'),
      subsystemVendorId: subsystemVendor === null ? null : hex(subsystemVendor),
      subsystemDeviceId: subsystemDevice === null ? null : hex(subsystemDevice),
      numaNode: Number.isInteger(numa) && numa >= 0 ? numa : null,
      driver,
      iommuGroup,
      physfn: physfn === null ? null : PciAddress.parse(physfn),
      virtfns: virtfnLinks.flatMap((name) => (name === null ? [] : (PciAddress.parse(name) ?? []))),
      sriovTotalVfs: totalVfs === null ? null : Number(totalVfs),
    }
  }
}

/** A sysfs attribute's text, trimmed; null when the file is absent or unreadable. */
async function text(path: string): Promise<string | null> {
  return readFile(path, 'utf8').then(
    (content) => content.trim(),
    () => null,
  )
}

/** The last component of a link's target (driver → "nvidia", physfn → "0000:3b:00.0"); null when no link. */
async function linkName(path: string): Promise<string | null> {
  return readlink(path).then(
    (target) => basename(target),
    () => null,
  )
}

function hex(value: string): string {
  return value.toLowerCase().replace(/^0x/, '')
}
