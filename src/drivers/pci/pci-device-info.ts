import type { DeviceType, DriverAttribute } from '../../queues/contract/inventory.ts'
import { sortedPythonJson } from '../python-json.ts'
import type { PciAddress } from './pci-address.ts'
import type { PciFunction } from './sysfs-pci-bus.ts'

// What our PCI-based drivers report alike about a PCI function, in Cyborg's shapes.

/** Vendor names Cyborg's traits and driver names use (cyborg/accelerator/common/utils.py get_vendor_maps). */
const VENDOR_NAMES: Record<string, string> = {
  '10de': 'nvidia',
  '102b': 'matrox',
  '1bd4': 'inspur',
  '8086': 'intel',
  '10ee': 'xilinx',
  '19e5': 'huawei',
  '1099': 'samsung',
  '1cf2': 'zte',
}

/** Names of the PCI classes accelerators come in, as lspci prints them (pci.ids). */
const CLASS_NAMES: Record<string, string> = {
  '0108': 'Non-Volatile memory controller',
  '0200': 'Ethernet controller',
  '0207': 'Infiniband controller',
  '0300': 'VGA compatible controller',
  '0302': '3D controller',
  '0b40': 'Co-processor',
  '1200': 'Processing accelerators',
}

/** The device type of a function by its PCI class, where the class says it; the whitelist's device_type tag decides otherwise. */
const CLASS_DEVICE_TYPES: Record<string, DeviceType> = {
  '0108': 'SSD',
  '0200': 'NIC',
  '0207': 'NIC',
  '0300': 'GPU',
  '0302': 'GPU',
  '0b40': 'QAT',
  '1200': 'FPGA',
}

export const OWNER_CYBORG = 'OWNER_CYBORG'

/** The kernel driver a function is bound to while a guest holds it: libvirt binds passed-through functions to vfio-pci. */
export const GUEST_DRIVER = 'vfio-pci'

export function vendorName(vendorId: string): string | undefined {
  return VENDOR_NAMES[vendorId]
}

export function deviceTypeOfClass(classCode: string): DeviceType | undefined {
  return CLASS_DEVICE_TYPES[classCode.slice(0, 4)]
}

/** Cyborg names a deployable `<host>_<PCI address>`; ":" and "." become "_", as a placement provider's name allows. */
export function deployableName(hostname: string, address: PciAddress): string {
  return `${hostname}_${address.toString()}`.replace(/[^a-zA-Z0-9_-]/g, '_')
}

/** std_board_info: Cyborg's product_id and controller, and the sysfs facts an operator places devices by. */
export function stdBoardInfo(fn: PciFunction): Record<string, unknown> {
  return {
    product_id: fn.productId,
    controller: CLASS_NAMES[fn.classCode.slice(0, 4)] ?? `PCI class ${fn.classCode}`,
    class: `0x${fn.classCode}`,
    numa_node: fn.numaNode,
    driver: fn.driver,
    iommu_group: fn.iommuGroup,
    ...(fn.sriovTotalVfs === null ? {} : { sriov_totalvfs: fn.sriovTotalVfs, sriov_numvfs: fn.virtfns.length }),
  }
}

/** vendor_board_info: the board's subsystem ids, which tell one vendor's boards of the same chip apart. */
export function vendorBoardInfo(fn: PciFunction): string {
  return sortedPythonJson({ subsystem_vendor_id: fn.subsystemVendorId ?? '', subsystem_device_id: fn.subsystemDeviceId ?? '' })
}

/** Cyborg's attribute list: `rc`, then the traits as trait0, trait1, ... (sysinfo.py _generate_attribute_list). */
export function cyborgAttributes(resourceClass: string, traits: string[]): DriverAttribute[] {
  return [{ key: 'rc', value: resourceClass }, ...traits.map((value, index) => ({ key: `trait${index}`, value }))]
}
