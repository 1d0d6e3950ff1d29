import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { Agent } from '../../src/agent/agent.ts'
import { PciWhitelist } from '../../src/drivers/pci/pci-whitelist.ts'
import { DriverRegistry } from '../../src/drivers/registry.ts'
import { deployableUuid, resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { storedHost } from '../support/agents.ts'
import { useApi, type StartedApi } from '../support/api.ts'
import { FAKE_NVIDIA_SMI_BIN, fixtureCopy, fixtureRoot, INTEL_HOST_WHITELIST, NVIDIA_HOST_WHITELIST } from '../support/hardware.ts'
import type { Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

// The NVIDIA driver runs `nvidia-smi` from PATH, as on a host: here the fake that prints the fixture host's CSV.
process.env.PATH = `${FAKE_NVIDIA_SMI_BIN}:${process.env.PATH}`

let harness: Harness
let app: FastifyInstance
let as: StartedApi['as']
const startApi = useApi()
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

/** An agent with real drivers on a fixture sysfs tree; the test sends its reports itself. */
function hardwareAgent(hostname: string, root: string, whitelist: string, drivers: string[]) {
  const config = { SYSFS_ROOT: root, PCI_PASSTHROUGH_WHITELIST: PciWhitelist.parse(whitelist) }
  const driver = DriverRegistry.load(drivers, { hostname, config, log: harness.log })
  return new Agent({ hostname, driver, client: harness.client, reportIntervalMs: 3_600_000, usageIntervalMs: 3_600_000, log: harness.log })
}

/** The host's tree through the API, as `openstack accelerator device list` and `deployable list` see it. */
async function apiTree(hostname: string) {
  const devices = (await app.inject({ url: `/v2/devices?hostname=${hostname}`, headers: as('readerA') })).json().devices
  const all = (await app.inject({ url: '/v2/deployables', headers: as('readerA') })).json().deployables
  const deployables = all.filter((deployable: { name: string }) => deployable.name.startsWith(`${hostname}_`))
  return { devices, deployables }
}

const bdf = (bus: string, device = '00', fn = '0') => `{"bus": "${bus}", "device": "${device}", "domain": "0000", "function": "${fn}"}`

test('the 8-GPU NVIDIA host: GPUs (PGPU and VGPU) and the SR-IOV NIC in PostgreSQL and the API; usage from nvidia-smi; an unplugged GPU leaves', async () => {
  ;({ harness, app, as } = await startApi({ FLUSH_INTERVAL_MS: '100' }))
  const copy = await fixtureCopy('nvidia-8gpu')
  cleanups.push(copy.remove)
  const host = harness.key('gpu')
  const agent = hardwareAgent(host, copy.root, NVIDIA_HOST_WHITELIST, ['nvidia_gpu_driver', 'pci'])
  expect(await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).toMatchObject({ returnvalue: { applied: true, updated: 0, deleted: 0 } })

  const rows = await storedHost(harness, host)
  expect(rows.map((device) => [device.type, device.vendor, device.model, device.controlpathIds[0]!.cpidInfo])).toEqual([
    ...['1a', '1b', '3d', '3e', '88', '89', 'b1', 'b2'].map((bus) => ['GPU', '10de', '1eb8', bdf(bus)]),
    ['NIC', '15b3', '101d', bdf('5e')],
  ])
  const deployable = (bus: string) => rows.find((device) => device.controlpathIds[0]!.cpidInfo === bdf(bus))!.deployables[0]!
  const pgpu = deployable('1a')
  expect(pgpu).toMatchObject({ name: `${host}_0000_1a_00_0`, numAccelerators: 1, driverName: 'NVIDIA', rpUuid: resourceProviderUuid(`${host}_0000_1a_00_0`) })
  expect(pgpu.attributes.map(({ key, value }) => `${key}=${value}`)).toEqual([
    'rc=PGPU',
    'trait0=OWNER_CYBORG',
    'trait1=CUSTOM_NVIDIA_1EB8',
    'trait2=CUSTOM_GPU_NVIDIA',
    'trait3=CUSTOM_GPU_PRODUCT_ID_1EB8',
  ])
  expect(pgpu.attachHandles.map(({ attachType, attachInfo, inUse }) => [attachType, attachInfo, inUse])).toEqual([['PCI', bdf('1a'), false]])
  const vgpu = deployable('b1')
  expect(vgpu.numAccelerators).toBe(8)
  expect(vgpu.attributes.find(({ key }) => key === 'rc')?.value).toBe('VGPU')
  expect(vgpu.attributes.find(({ key }) => key === 'trait1')?.value).toBe('CUSTOM_NVIDIA_1EB8_T4_2B')
  expect(vgpu.attachHandles.map(({ attachType, attachInfo }) => [attachType, JSON.parse(attachInfo).vgpu_mark])).toEqual(
    Array.from({ length: 8 }, (_, index) => ['MDEV', `nvidia-223_${index}`]),
  )
  const nic = deployable('5e')
  expect(nic.attributes.find(({ key }) => key === 'rc')?.value).toBe('CUSTOM_NIC_CX6DX')
  expect(nic.attachHandles.map(({ attachInfo }) => attachInfo)).toEqual(['2', '3', '4', '5'].map((fn) => bdf('5e', '00', fn)))

  const tree = await apiTree(host)
  expect(tree.devices).toHaveLength(9)
  expect(tree.devices[0]).toMatchObject({
    type: 'GPU',
    vendor: '10de',
    model: '1eb8',
    hostname: host,
    std_board_info: expect.stringContaining('"controller":"3D controller"'),
  })
  expect(tree.deployables).toHaveLength(9)
  expect(tree.deployables.find((each: { name: string }) => each.name === `${host}_0000_b2_00_0`)).toMatchObject({ num_accelerators: 8, driver_name: 'NVIDIA' })
  console.log(`GET /v2/devices?hostname=${host} and GET /v2/deployables of the NVIDIA fixture:\n${JSON.stringify(tree, null, 2)}`)

  // Usage: nvidia-smi's sample per GPU, in use from sysfs; the NIC's VFs held by guests.
  await agent.reportUsage()
  await harness.waitForJobsDone(harness.writeQueue, 'the usage batch')
  await harness.waitForFlushed()
  const usage = await harness.prisma.deployableUsage.findMany({ where: { deployableUuid: { in: rows.map((device) => device.deployables[0]!.uuid) } } })
  const metrics = new Map(usage.map((row) => [row.deployableUuid, row.metrics]))
  expect(metrics.size).toBe(9)
  expect(metrics.get(deployableUuid(`${host}_0000_3d_00_0`))).toEqual({
    accelerators_in_use: 0,
    utilization_percent: 87,
    memory_used_mib: 11342,
    power_w: 68.95,
    temperature_c: 61,
  })
  expect(metrics.get(deployableUuid(`${host}_0000_3e_00_0`))).toEqual({ accelerators_in_use: 1 })
  expect(metrics.get(deployableUuid(`${host}_0000_b1_00_0`))).toMatchObject({ accelerators_in_use: 2, memory_used_mib: 4180 })

  // 0000:89:00.0 is hot-unplugged: the kernel removes its sysfs directory and link.
  await rm(join(copy.root, 'bus/pci/devices/0000:89:00.0'))
  await rm(join(copy.root, 'devices/pci0000:85/0000:85:00.0/0000:86:00.0/0000:87:10.0/0000:89:00.0'), { recursive: true })
  const removal = (await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).returnvalue
  expect(removal).toMatchObject({ applied: true, added: 0, updated: 0, deleted: expect.any(Number) })
  expect((removal as { deleted: number }).deleted).toBeGreaterThan(0)
  const after = await storedHost(harness, host)
  expect(after).toHaveLength(8)
  expect(after.some((device) => device.controlpathIds[0]!.cpidInfo === bdf('89'))).toBe(false)
  expect(await harness.prisma.deployableUsage.count({ where: { deployableUuid: deployableUuid(`${host}_0000_89_00_0`) } })).toBe(0)
  const afterApi = await apiTree(host)
  expect(afterApi.devices).toHaveLength(8)
  expect(afterApi.deployables.map((each: { name: string }) => each.name)).not.toContain(`${host}_0000_89_00_0`)
})

test('a GPU’s PCI handle and a vGPU’s MDEV handle bind through the ARQ path with Cyborg’s attach_info', async () => {
  ;({ harness, app, as } = await startApi())
  const host = harness.key('gpu')
  const agent = hardwareAgent(host, fixtureRoot('nvidia-8gpu'), NVIDIA_HOST_WHITELIST, ['nvidia_gpu'])
  await harness.outcome(harness.inventoryQueue, await agent.reportInventory())
  const bind = async (group: Record<string, string>, deployableName: string) => {
    const name = harness.key(`profile-${randomUUID().slice(0, 8)}`)
    expect((await app.inject({ method: 'POST', url: '/v2/device_profiles', headers: as('admin'), payload: [{ name, groups: [group] }] })).statusCode).toBe(201)
    const [arq] = (
      await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: name } })
    ).json().arqs
    const instance = randomUUID()
    const ops = [
      { op: 'add', path: '/hostname', value: host },
      { op: 'add', path: '/device_rp_uuid', value: resourceProviderUuid(deployableName) },
      { op: 'add', path: '/instance_uuid', value: instance },
    ]
    expect((await app.inject({ method: 'PATCH', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { [arq.uuid]: ops } })).statusCode).toBe(202)
    return waitFor(async () => {
      const view = (await app.inject({ url: `/v2/accelerator_requests/${arq.uuid}`, headers: as('serviceA') })).json()
      return view.state === 'Bound' && view
    }, 'the ARQ bound')
  }
  expect(await bind({ 'resources:PGPU': '1', 'trait:CUSTOM_GPU_PRODUCT_ID_1EB8': 'required' }, `${host}_0000_1b_00_0`)).toMatchObject({
    attach_handle_type: 'PCI',
    attach_handle_info: { domain: '0000', bus: '1b', device: '00', function: '0' },
  })
  expect(await bind({ 'resources:VGPU': '1', 'trait:CUSTOM_NVIDIA_1EB8_T4_2B': 'required' }, `${host}_0000_b2_00_0`)).toMatchObject({
    attach_handle_type: 'MDEV',
    attach_handle_info: { domain: '0000', bus: 'b2', device: '00', function: '0', asked_type: 'nvidia-223', vgpu_mark: 'nvidia-223_0' },
  })
  const [handle] = (await storedHost(harness, host)).find((device) => device.controlpathIds[0]!.cpidInfo === bdf('1b'))!.deployables[0]!.attachHandles
  expect(handle!.inUse).toBe(true)
})

test('the FPGA and QAT host: the PAC and the adapter with its 16 VFs; the X710 stays out', async () => {
  ;({ harness, app, as } = await startApi())
  const host = harness.key('accel')
  const agent = hardwareAgent(host, fixtureRoot('intel-fpga-qat'), INTEL_HOST_WHITELIST, ['pci_driver'])
  expect(await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).toMatchObject({ returnvalue: { applied: true, updated: 0, deleted: 0 } })
  const [fpga, qat] = await storedHost(harness, host)
  expect(fpga).toMatchObject({ type: 'FPGA', vendor: '8086', model: '09c4' })
  expect(fpga!.deployables[0]!.attributes.find(({ key }) => key === 'rc')?.value).toBe('FPGA')
  expect(qat).toMatchObject({ type: 'QAT', vendor: '8086', model: '37c8', stdBoardInfo: expect.objectContaining({ sriov_numvfs: 16, numa_node: 1 }) })
  expect(qat!.deployables[0]).toMatchObject({ name: `${host}_0000_af_00_0`, numAccelerators: 16, driverName: 'INTEL' })
  expect(qat!.deployables[0]!.attachHandles).toHaveLength(16)
  expect(qat!.deployables[0]!.attributes.find(({ key }) => key === 'rc')?.value).toBe('CUSTOM_QAT')
  const tree = await apiTree(host)
  expect(tree.devices.map((device: { type: string }) => device.type)).toEqual(['FPGA', 'QAT'])
  expect(tree.deployables.map((each: { num_accelerators: number }) => each.num_accelerators)).toEqual([1, 16])
})

test('the empty host: every driver reports nothing, and the host has no rows', async () => {
  ;({ harness, app, as } = await startApi())
  const host = harness.key('plain')
  const agent = hardwareAgent(host, fixtureRoot('empty-host'), INTEL_HOST_WHITELIST, ['nvidia_gpu', 'pci'])
  expect(await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).toEqual({
    returnvalue: { applied: true, added: 0, updated: 0, deleted: 0 },
  })
  expect(await storedHost(harness, host)).toEqual([])
  expect(await apiTree(host)).toEqual({ devices: [], deployables: [] })
})
