import type { Logger } from 'pino'
import type { DriverAttachHandle, DriverDevice } from '../../queues/contract/inventory.ts'
import type { AcceleratorDriver, DeployableStats } from '../accelerator-driver.ts'
import type { PciAddress } from '../pci/pci-address.ts'
import { GUEST_DRIVER, OWNER_CYBORG, cyborgAttributes, deployableName, stdBoardInfo, vendorBoardInfo } from '../pci/pci-device-info.ts'
import type { PciWhitelist } from '../pci/pci-whitelist.ts'
import type { PciFunction, SysfsPciBus } from '../pci/sysfs-pci-bus.ts'
import type { NvidiaSmi } from './nvidia-smi.ts'

export interface NvidiaGpuDriverOptions {
  hostname: string
  bus: SysfsPciBus
  /** Which GPUs to report, and which of them as vGPUs (the vgpu_type tag); empty: every NVIDIA GPU, as passthrough. */
  whitelist: PciWhitelist
  smi: NvidiaSmi
  log: Logger
}

const NVIDIA = '10de'

/** An NVIDIA display controller (VGA 0x0300 or 3D 0x0302): what Cyborg's GPU_FLAGS pick from lspci. */
export function isNvidiaGpu(fn: PciFunction): boolean {
  return fn.vendorId === NVIDIA && fn.classCode.startsWith('03')
}

/** A reported GPU, remembered for usage sampling. */
interface ReportedGpu {
  deployableName: string
  address: PciAddress
  /** vGPUs: the functions carrying the mdevs and the type; passthrough: none. */
  vgpu: { type: string; parents: PciAddress[] } | null
}

/**
 * Cyborg's NVIDIA GPU driver (gpu/nvidia): every NVIDIA GPU the whitelist admits is a device with
 * one deployable. As passthrough: resource class PGPU, one PCI attach handle. With a vgpu_type tag:
 * resource class VGPU, one MDEV attach handle per instance of that type (created or still
 * available), from mdev_supported_types of the GPU or, on SR-IOV GPUs (Ampere and later), of its VFs.
 * Virtual functions are never reported as GPUs of their own (Cyborg's filter_sriov_vfs).
 */
export class NvidiaGpuDriver implements AcceleratorDriver {
  private reported: ReportedGpu[] = []
  private readonly warned = new Set<string>()

  constructor(private readonly options: NvidiaGpuDriverOptions) {}

  async discover(): Promise<DriverDevice[]> {
    const { bus, whitelist, hostname } = this.options
    const functions = await bus.functions()
    const byAddress = new Map(functions.map((fn) => [fn.address.toString(), fn]))
    const devices: DriverDevice[] = []
    const reported: ReportedGpu[] = []
    for (const gpu of functions.filter((fn) => isNvidiaGpu(fn) && fn.physfn === null)) {
      const spec = whitelist.specFor({ vendorId: gpu.vendorId, productId: gpu.productId, address: gpu.address.toString(), parentAddress: null })
      if (!whitelist.empty && !spec) continue
      const name = deployableName(hostname, gpu.address)
      if (!spec?.vgpuType) {
        devices.push(this.device(gpu, name, 'PGPU', [], [{ attach_type: 'PCI', attach_info: gpu.address.toCyborgJson(), in_use: false }]))
        reported.push({ deployableName: name, address: gpu.address, vgpu: null })
        continue
      }
      const vgpu = await this.vgpus(gpu, spec.vgpuType, byAddress)
      if (!vgpu) continue
      devices.push(this.device(gpu, name, 'VGPU', [vgpu.typeName], vgpu.handles))
      reported.push({ deployableName: name, address: gpu.address, vgpu: { type: spec.vgpuType, parents: vgpu.parents } })
    }
    this.reported = reported
    return devices
  }

  async update(): Promise<boolean> {
    return false
  }

  /**
   * In use: a passed-through GPU bound to vfio-pci, or the vGPUs created; with nvidia-smi's sample of
   * the GPU where it lists it. No nvidia-smi: no usage at all.
   */
  async getStats(): Promise<DeployableStats[]> {
    const samples = await this.options.smi.sample()
    if (samples === null) return []
    const { bus } = this.options
    return Promise.all(
      this.reported.map(async ({ deployableName, address, vgpu }) => {
        const inUse = vgpu
          ? (await Promise.all(vgpu.parents.map((parent) => bus.createdMdevs(parent, vgpu.type)))).reduce((sum, count) => sum + count, 0)
          : Number((await bus.driverOf(address)) === GUEST_DRIVER)
        return { deployableName, metrics: { accelerators_in_use: inUse, ...samples.get(address.toString()) } }
      }),
    )
  }

  /** The vGPUs of one type a GPU offers; null (and a warning) when neither it nor its VFs offer that type. */
  private async vgpus(gpu: PciFunction, type: string, byAddress: Map<string, PciFunction>) {
    const { bus } = this.options
    const candidates = [gpu, ...gpu.virtfns.flatMap((vf) => byAddress.get(vf.toString()) ?? [])]
    const offers = await Promise.all(candidates.map(async (fn) => ({ fn, type: (await bus.mdevTypes(fn.address)).find((each) => each.id === type) })))
    const parents = offers.filter((offer) => offer.type !== undefined)
    if (parents.length === 0) {
      const key = `${gpu.address}/${type}`
      if (!this.warned.has(key))
        this.options.log.warn({ address: gpu.address.toString(), vgpu_type: type }, 'the GPU offers no such mdev type; GPU not reported')
      this.warned.add(key)
      return null
    }
    let index = 0
    const handles: DriverAttachHandle[] = parents.flatMap(({ fn, type: offered }) =>
      Array.from({ length: offered!.availableInstances + offered!.createdInstances }, () => ({
        attach_type: 'MDEV' as const,
        // cyborg/accelerator/common/utils.py mdev_str_to_json: the parent's address, the type and a mark per instance.
        attach_info: fn.address.toCyborgJson({ asked_type: type, vgpu_mark: `${type}_${index++}` }),
        in_use: false,
      })),
    )
    // "GRID T4-2B" → "T4_2B", as Cyborg turns the type's name into a trait.
    const typeName = (parents[0]!.type!.name.split(' ')[1] ?? type).replace(/-/g, '_')
    return { handles, parents: parents.map(({ fn }) => fn.address), typeName }
  }

  private device(gpu: PciFunction, name: string, resourceClass: 'PGPU' | 'VGPU', vgpuTypeName: string[], handles: DriverAttachHandle[]): DriverDevice {
    const product = gpu.productId.toUpperCase()
    // Today's Cyborg forms OWNER_CYBORG and CUSTOM_NVIDIA_<product>[_<vGPU type>]; Cyborg before Wallaby formed
    // CUSTOM_GPU_NVIDIA and CUSTOM_GPU_PRODUCT_ID_<product>. Both are reported, so device profiles of either era match.
    const traits = [OWNER_CYBORG, ['CUSTOM_NVIDIA', product, ...vgpuTypeName].join('_').toUpperCase(), 'CUSTOM_GPU_NVIDIA', `CUSTOM_GPU_PRODUCT_ID_${product}`]
    return {
      type: 'GPU',
      vendor: gpu.vendorId,
      model: gpu.productId,
      std_board_info: stdBoardInfo(gpu),
      vendor_board_info: vendorBoardInfo(gpu),
      stub: false,
      controlpath_id: { cpid_type: 'PCI', cpid_info: gpu.address.toCyborgJson() },
      deployable_list: [
        {
          name,
          num_accelerators: handles.length,
          driver_name: 'NVIDIA',
          bitstream_id: null,
          attribute_list: cyborgAttributes(resourceClass, traits),
          attach_handle_list: handles,
        },
      ],
    }
  }
}
