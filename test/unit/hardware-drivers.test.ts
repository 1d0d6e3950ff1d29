import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { DriverRegistry } from '../../src/drivers/registry.ts'
import { NvidiaGpuDriver } from '../../src/drivers/nvidia/nvidia-gpu-driver.ts'
import { NvidiaSmi } from '../../src/drivers/nvidia/nvidia-smi.ts'
import { PciAddress } from '../../src/drivers/pci/pci-address.ts'
import { PciDriver } from '../../src/drivers/pci/pci-driver.ts'
import { PciWhitelist } from '../../src/drivers/pci/pci-whitelist.ts'
import { SysfsPciBus } from '../../src/drivers/pci/sysfs-pci-bus.ts'
import { UnknownDriverError } from '../../src/drivers/unknown-driver-error.ts'
import { capturedLog, FAKE_NVIDIA_SMI_BIN, fixtureCopy, fixtureRoot, INTEL_HOST_WHITELIST, NVIDIA_HOST_WHITELIST } from '../support/hardware.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

const fakeSmi = join(FAKE_NVIDIA_SMI_BIN, 'nvidia-smi')
const address = (text: string) => PciAddress.parse(text)!

function nvidiaDriver(root = fixtureRoot('nvidia-8gpu'), whitelist = PciWhitelist.parse(NVIDIA_HOST_WHITELIST), smiCommand = fakeSmi) {
  const { log, warnings } = capturedLog()
  return { driver: new NvidiaGpuDriver({ hostname: 'gpu-1', bus: new SysfsPciBus(root), whitelist, smi: new NvidiaSmi(log, smiCommand), log }), warnings }
}

test('sysfs: a function’s facts come from its attribute files and links', async () => {
  const functions = await new SysfsPciBus(fixtureRoot('nvidia-8gpu')).functions()
  const byAddress = new Map(functions.map((fn) => [fn.address.toString(), fn]))
  expect(byAddress.get('0000:3e:00.0')).toEqual({
    address: address('0000:3e:00.0'),
    vendorId: '10de',
    productId: '1eb8',
    classCode: '030200',
    subsystemVendorId: '10de',
    subsystemDeviceId: '12a2',
    numaNode: 0,
    driver: 'vfio-pci',
    iommuGroup: '42',
    physfn: null,
    virtfns: [],
    sriovTotalVfs: null,
  })
  expect(byAddress.get('0000:5e:00.0')).toMatchObject({
    driver: 'mlx5_core',
    sriovTotalVfs: 8,
    virtfns: ['0000:5e:00.2', '0000:5e:00.3', '0000:5e:00.4', '0000:5e:00.5'].map(address),
  })
  expect(byAddress.get('0000:5e:00.4')).toMatchObject({ productId: '101e', physfn: address('0000:5e:00.0'), iommuGroup: '162' })
  expect(byAddress.get('0000:00:00.0')).toMatchObject({ driver: null, classCode: '060000' })
  expect(await new SysfsPciBus(fixtureRoot('nvidia-8gpu')).mdevTypes(address('0000:b1:00.0'))).toContainEqual({
    id: 'nvidia-223',
    name: 'GRID T4-2B',
    availableInstances: 6,
    createdInstances: 2,
  })
  await expect(new SysfsPciBus('/nonexistent').functions()).rejects.toThrow(
    'cannot list PCI devices in /nonexistent/bus/pci/devices (is SYSFS_ROOT right?): ENOENT',
  )
})

test('NVIDIA: eight T4s, six passed through as PGPU and two as T4-2B vGPUs; the ASPEED VGA and the NIC are not GPUs', async () => {
  const { driver } = nvidiaDriver()
  const devices = await driver.discover()
  expect(devices.map((device) => device.deployable_list[0]!.name)).toEqual(
    ['1a', '1b', '3d', '3e', '88', '89', 'b1', 'b2'].map((bus) => `gpu-1_0000_${bus}_00_0`),
  )
  const [pgpu] = devices
  expect(pgpu).toEqual({
    type: 'GPU',
    vendor: '10de',
    model: '1eb8',
    std_board_info: { product_id: '1eb8', controller: '3D controller', class: '0x030200', numa_node: 0, driver: 'nvidia', iommu_group: '31' },
    vendor_board_info: '{"subsystem_device_id": "12a2", "subsystem_vendor_id": "10de"}',
    stub: false,
    controlpath_id: { cpid_type: 'PCI', cpid_info: '{"bus": "1a", "device": "00", "domain": "0000", "function": "0"}' },
    deployable_list: [
      {
        name: 'gpu-1_0000_1a_00_0',
        num_accelerators: 1,
        driver_name: 'NVIDIA',
        bitstream_id: null,
        attribute_list: [
          { key: 'rc', value: 'PGPU' },
          { key: 'trait0', value: 'OWNER_CYBORG' },
          { key: 'trait1', value: 'CUSTOM_NVIDIA_1EB8' },
          { key: 'trait2', value: 'CUSTOM_GPU_NVIDIA' },
          { key: 'trait3', value: 'CUSTOM_GPU_PRODUCT_ID_1EB8' },
        ],
        attach_handle_list: [{ attach_type: 'PCI', attach_info: '{"bus": "1a", "device": "00", "domain": "0000", "function": "0"}', in_use: false }],
      },
    ],
  })
  // 6 available and 2 created on b1, 8 available on b2: 8 vGPUs each.
  const vgpu = devices[6]!.deployable_list[0]!
  expect(vgpu.num_accelerators).toBe(8)
  expect(vgpu.attribute_list.slice(0, 3)).toEqual([
    { key: 'rc', value: 'VGPU' },
    { key: 'trait0', value: 'OWNER_CYBORG' },
    { key: 'trait1', value: 'CUSTOM_NVIDIA_1EB8_T4_2B' },
  ])
  expect(vgpu.attach_handle_list[7]).toEqual({
    attach_type: 'MDEV',
    attach_info: '{"asked_type": "nvidia-223", "bus": "b1", "device": "00", "domain": "0000", "function": "0", "vgpu_mark": "nvidia-223_7"}',
    in_use: false,
  })
  expect(devices[7]!.deployable_list[0]!.num_accelerators).toBe(8)
})

test('NVIDIA usage: nvidia-smi’s sample per GPU; in use from sysfs (vfio-pci, created mdevs); [N/A] left out', async () => {
  const { driver } = nvidiaDriver()
  expect(await driver.getStats()).toEqual([])
  await driver.discover()
  const stats = new Map((await driver.getStats()).map(({ deployableName, metrics }) => [deployableName, metrics]))
  expect(stats.size).toBe(8)
  expect(stats.get('gpu-1_0000_3d_00_0')).toEqual({
    accelerators_in_use: 0,
    utilization_percent: 87,
    memory_used_mib: 11342,
    power_w: 68.95,
    temperature_c: 61,
  })
  // Passed through to a guest: bound to vfio-pci, invisible to nvidia-smi.
  expect(stats.get('gpu-1_0000_3e_00_0')).toEqual({ accelerators_in_use: 1 })
  expect(stats.get('gpu-1_0000_b1_00_0')).toEqual({ accelerators_in_use: 2, utilization_percent: 23, memory_used_mib: 4180, power_w: 41.87, temperature_c: 52 })
  expect(stats.get('gpu-1_0000_b2_00_0')).toEqual({ accelerators_in_use: 0, utilization_percent: 0, memory_used_mib: 0, temperature_c: 30 })
})

test('NVIDIA without nvidia-smi: the inventory is reported, usage is left out, with one warning', async () => {
  const { driver, warnings } = nvidiaDriver(undefined, undefined, '/nonexistent/nvidia-smi')
  expect(await driver.discover()).toHaveLength(8)
  expect(await driver.getStats()).toEqual([])
  expect(await driver.getStats()).toEqual([])
  expect(warnings()).toEqual(['/nonexistent/nvidia-smi not found; NVIDIA GPUs are reported without usage metrics'])
})

test('NVIDIA: an empty whitelist reports every GPU as passthrough; a vgpu_type the GPU lacks leaves it out with a warning', async () => {
  expect((await nvidiaDriver(undefined, new PciWhitelist()).driver.discover()).map((device) => device.deployable_list[0]!.attribute_list[0]!.value)).toEqual(
    Array(8).fill('PGPU'),
  )
  const { driver, warnings } = nvidiaDriver(undefined, PciWhitelist.parse('[{"vendor_id": "10de", "address": "0000:1a:00.0", "vgpu_type": "nvidia-999"}]'))
  expect(await driver.discover()).toEqual([])
  await driver.discover()
  expect(warnings()).toEqual(['the GPU offers no such mdev type; GPU not reported'])
})

test('generic PCI: the FPGA, and the QAT adapter as one device offering its 16 VFs; the X710 is not whitelisted', async () => {
  const { log } = capturedLog()
  const driver = new PciDriver({
    hostname: 'fpga-1',
    bus: new SysfsPciBus(fixtureRoot('intel-fpga-qat')),
    whitelist: PciWhitelist.parse(INTEL_HOST_WHITELIST),
    log,
  })
  const [fpga, qat, ...others] = await driver.discover()
  expect(others).toEqual([])
  expect(fpga).toMatchObject({
    type: 'FPGA',
    vendor: '8086',
    model: '09c4',
    controlpath_id: { cpid_type: 'PCI', cpid_info: '{"bus": "3b", "device": "00", "domain": "0000", "function": "0"}' },
    deployable_list: [{ name: 'fpga-1_0000_3b_00_0', num_accelerators: 1, driver_name: 'INTEL' }],
  })
  expect(fpga!.deployable_list[0]!.attribute_list.map(({ value }) => value)).toEqual(['FPGA', 'OWNER_CYBORG', 'CUSTOM_PCI_INTEL', 'CUSTOM_PCI_PRODUCT_ID_09C4'])
  expect(qat).toMatchObject({ type: 'QAT', std_board_info: { controller: 'Co-processor', numa_node: 1, driver: 'c6xx', sriov_totalvfs: 16, sriov_numvfs: 16 } })
  const deployable = qat!.deployable_list[0]!
  expect(deployable.attribute_list[0]).toEqual({ key: 'rc', value: 'CUSTOM_QAT' })
  expect(deployable.attach_handle_list.map(({ attach_info }) => JSON.parse(attach_info))).toEqual(
    ['01', '02'].flatMap((device) => Array.from({ length: 8 }, (_, fn) => ({ domain: '0000', bus: 'af', device, function: String(fn) }))),
  )
  // VF 3 is bound to vfio-pci: a guest has it.
  expect(await driver.getStats()).toEqual([
    { deployableName: 'fpga-1_0000_3b_00_0', metrics: { accelerators_in_use: 0 } },
    { deployableName: 'fpga-1_0000_af_00_0', metrics: { accelerators_in_use: 1 } },
  ])
})

test('generic PCI: a PF whose VFs are not whitelisted is not offered; a class without a device type needs the tag', async () => {
  const { log, warnings } = capturedLog()
  const bus = new SysfsPciBus(fixtureRoot('intel-fpga-qat'))
  const pfOnly = new PciDriver({ hostname: 'h', bus, whitelist: PciWhitelist.parse('{"vendor_id": "8086", "product_id": "37c8"}'), log })
  expect(await pfOnly.discover()).toEqual([])
  const bridges = new PciDriver({ hostname: 'h', bus, whitelist: PciWhitelist.parse('{"address": "0000:00:00.0"}'), log })
  expect(await bridges.discover()).toEqual([])
  const tagged = new PciDriver({ hostname: 'h', bus, whitelist: PciWhitelist.parse('{"address": "0000:00:00.0", "device_type": "AICHIP"}'), log })
  expect((await tagged.discover())[0]!.deployable_list[0]!.attribute_list[0]).toEqual({ key: 'rc', value: 'CUSTOM_AICHIP' })
  expect(warnings()).toEqual([
    'SR-IOV is enabled on this physical function and none of its virtual functions is whitelisted; device not reported',
    'PCI class names no device type; give the whitelist entry a device_type tag; device not reported',
  ])
})

test('a real H100 host (a VM’s sysfs as captured on it): the driver finds the GPUs nvidia-smi lists, at the same addresses', async () => {
  const recorded = join(FAKE_NVIDIA_SMI_BIN, '../h100-vm')
  // `nvidia-smi --query-gpu=index,pci.bus_id,name,uuid --format=csv,noheader` and `nvidia-smi -L` of that host.
  const listed = (await readFile(join(recorded, 'gpus.csv'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(', '))
  expect((await readFile(join(recorded, 'list.txt'), 'utf8')).trim().split('\n')).toHaveLength(listed.length)
  const { driver } = nvidiaDriver(fixtureRoot('h100-vm'), new PciWhitelist())
  const devices = await driver.discover()
  expect(devices.map((device) => JSON.parse(device.controlpath_id.cpid_info))).toEqual(
    listed.map(([, busId]) => {
      const [, bus, rest] = busId!.toLowerCase().split(':')
      const [slot, fn] = rest!.split('.')
      return { domain: '0000', bus, device: slot, function: fn }
    }),
  )
  expect(devices[0]).toMatchObject({ model: '2330', std_board_info: { controller: '3D controller', numa_node: null, iommu_group: null, driver: 'nvidia' } })
})

test('an empty host: no driver finds anything', async () => {
  const { log } = capturedLog()
  const config = {
    SYSFS_ROOT: fixtureRoot('empty-host'),
    PCI_PASSTHROUGH_WHITELIST: PciWhitelist.parse('[{"vendor_id": "10de"}, {"vendor_id": "8086", "product_id": "37c9"}]'),
  }
  expect(await DriverRegistry.load(['nvidia_gpu', 'pci'], { hostname: 'h', config, log }).discover()).toEqual([])
})

test('a GPU unplugged between two discoveries is gone from the second', async () => {
  const copy = await fixtureCopy('nvidia-8gpu')
  cleanups.push(copy.remove)
  const { driver } = nvidiaDriver(copy.root)
  expect(await driver.discover()).toHaveLength(8)
  await rm(join(copy.root, 'bus/pci/devices/0000:89:00.0'))
  await rm(join(copy.root, 'devices/pci0000:85/0000:85:00.0/0000:86:00.0/0000:87:10.0/0000:89:00.0'), { recursive: true })
  const devices = await driver.discover()
  expect(devices.map((device) => device.deployable_list[0]!.name)).not.toContain('gpu-1_0000_89_00_0')
  expect(devices).toHaveLength(7)
})

test('the registry loads drivers by our names and Cyborg’s, once each; an unknown name lists the known ones', async () => {
  const { log } = capturedLog()
  const config = { SYSFS_ROOT: fixtureRoot('nvidia-8gpu'), PCI_PASSTHROUGH_WHITELIST: PciWhitelist.parse(NVIDIA_HOST_WHITELIST) }
  expect(DriverRegistry.load(['fake', 'fake_driver', 'pci_driver'], { hostname: 'h', config, log }).drivers).toHaveLength(2)
  expect(() => DriverRegistry.load(['fake', 'nvidia', 'intel_fpga_driver'], { hostname: 'h', config, log })).toThrow(
    new UnknownDriverError(['nvidia', 'intel_fpga_driver'], DriverRegistry.names),
  )
  expect(new UnknownDriverError(['nvidia'], DriverRegistry.names).message).toBe(
    'unknown accelerator driver "nvidia"; known drivers: fake, nvidia_gpu, pci, fake_driver, nvidia_gpu_driver, pci_driver',
  )
  // Both enabled: the GPUs are nvidia_gpu's alone, the ConnectX-6 is pci's; an update reaches no driver that cannot program.
  const drivers = DriverRegistry.load(['nvidia_gpu', 'pci'], { hostname: 'h', config, log })
  const devices = await drivers.discover()
  expect(devices.map((device) => `${device.type} ${device.deployable_list[0]!.driver_name}`)).toEqual([...Array(8).fill('GPU NVIDIA'), 'NIC 15B3'])
  expect(await drivers.update(devices[0]!.controlpath_id, '/tmp/image')).toBe(false)
})
