import { afterEach, expect, test } from 'vitest'
import { deployableUuid, resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { INVENTORY_REPORT_JOB } from '../../src/queues/contract/names.ts'
import { storedHost, testAgent } from '../support/agents.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness
afterEach(() => harness?.close())

const waitForHost = (hostname: string, what: string, check: (devices: Awaited<ReturnType<typeof storedHost>>) => boolean) =>
  waitFor(async () => {
    const devices = await storedHost(harness, hostname)
    return check(devices) && devices
  }, what)

test('two agents with the dummy driver: the conductor stores each host’s tree and its usage', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const [hostA, hostB] = [harness.key('compute-a'), harness.key('compute-b')]
  const a = testAgent(harness, { hostname: hostA })
  const b = testAgent(harness, { hostname: hostB, devices: 2, types: ['FPGA', 'GPU'] })
  await Promise.all([a.agent.start(), b.agent.start()])

  const devices = await waitForHost(hostA, 'host A reconciled', (found) => found.length === 1)
  await waitForHost(hostB, 'host B reconciled', (found) => found.length === 2)
  const [device] = devices
  expect(device).toMatchObject({
    type: 'FPGA',
    vendor: '0xABCD',
    model: 'miss model info',
    hostname: hostA,
    status: 'enabled',
    vendorBoardInfo: 'fake_vendor_info',
  })
  expect(device!.controlpathIds).toMatchObject([{ cpidType: 'PCI', cpidInfo: '{"domain": "0000", "bus": "0c", "device": "00", "function": "0"}' }])
  const [deployable] = device!.deployables
  const name = `${hostA}_FakeDevice`
  expect(deployable).toMatchObject({ name, uuid: deployableUuid(name), rpUuid: resourceProviderUuid(name), numAccelerators: 16, driverName: 'fake' })
  expect(deployable!.attributes.map(({ key, value }) => [key, value])).toEqual([
    ['rc', 'FPGA'],
    ['traits1', 'CUSTOM_FAKE_DEVICE'],
  ])
  expect(deployable!.attachHandles).toHaveLength(16)
  expect(
    deployable!.attachHandles.every((handle) => handle.attachType === 'TEST_PCI' && !handle.inUse && handle.cpidId === device!.controlpathIds[0]!.id),
  ).toBe(true)

  // Usage arrives keyed by deployable uuid, one write-batch per report.
  await harness.waitForJobsDone(harness.writeQueue, 'the usage batches')
  await harness.waitForFlushed()
  const usage = await harness.prisma.deployableUsage.findMany({
    where: { deployableUuid: { in: [deployableUuid(name), deployableUuid(`${hostB}_FakeDevice`), deployableUuid(`${hostB}_FakeDevice1`)] } },
  })
  expect(usage).toHaveLength(3)
  expect(Object.keys(usage[0]!.metrics as object).sort()).toEqual(['accelerators_in_use', 'memory_used_mib', 'power_w', 'temperature_c', 'utilization_percent'])

  console.log(`stored rows of host ${hostA}:\n${JSON.stringify(devices, (_, value) => (typeof value === 'bigint' ? Number(value) : value), 2).slice(0, 4000)}`)
  await Promise.all([a.agent.stop(), b.agent.stop()])
})

test('a device that disappears is deleted with its usage; a changed attribute is updated, a new one added, a removed one deleted', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const host = harness.key('compute')
  const { agent, driver } = testAgent(harness, { hostname: host, devices: 2 })
  await agent.start()
  await waitForHost(host, 'two devices', (found) => found.length === 2)
  await harness.waitForJobsDone(harness.writeQueue, 'the usage batch')
  await harness.waitForFlushed()
  const goneUuid = deployableUuid(`${host}_FakeDevice1`)
  expect(await harness.prisma.deployableUsage.count({ where: { deployableUuid: goneUuid } })).toBe(1)

  driver.setDeviceCount(1)
  driver.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_FAKE_DEVICE_V2')
  driver.setAttribute(`${host}_FakeDevice`, 'traits2', 'CUSTOM_ADDED')
  driver.setAttribute(`${host}_FakeDevice`, 'rc', null)
  expect(await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).toEqual({
    returnvalue: { applied: true, added: 1, updated: 1, deleted: 2 },
  })
  const devices = await waitForHost(
    host,
    'the second device deleted',
    (found) => found.length === 1 && found[0]!.deployables[0]!.attributes.some((attribute) => attribute.value === 'CUSTOM_FAKE_DEVICE_V2'),
  )
  expect(devices[0]!.deployables[0]!.name).toBe(`${host}_FakeDevice`)
  expect(devices[0]!.deployables[0]!.attributes.map(({ key, value }) => [key, value])).toEqual([
    ['traits1', 'CUSTOM_FAKE_DEVICE_V2'],
    ['traits2', 'CUSTOM_ADDED'],
  ])
  expect(await harness.prisma.deployableUsage.count({ where: { deployableUuid: goneUuid } })).toBe(0)
  expect(await harness.cache.read('usage', goneUuid)).toBeNull()
})

test('an unchanged snapshot is reconciled from the cached tree without any SQL', async () => {
  harness = await startHarness()
  const host = harness.key('steady')
  const { agent } = testAgent(harness, { hostname: host })
  await harness.outcome(harness.inventoryQueue, await agent.reportInventory())
  const before = harness.counts.statements
  const jobId = await agent.reportInventory()
  expect(await harness.outcome(harness.inventoryQueue, jobId)).toEqual({ returnvalue: { applied: true, added: 0, updated: 0, deleted: 0 } })
  expect(harness.counts.statements - before).toBe(0)
})

test('an older snapshot than the last one applied is ignored', async () => {
  harness = await startHarness()
  const host = harness.key('late')
  const { driver } = testAgent(harness, { hostname: host })
  const devices = await driver.discover()
  await harness.outcome(harness.inventoryQueue, await harness.client.reportInventory({ hostname: host, version: 200, devices }))
  const late = await harness.inventoryQueue.add(INVENTORY_REPORT_JOB, { hostname: host, version: 100, devices: [] })
  expect(await harness.outcome(harness.inventoryQueue, late.id!)).toEqual({ returnvalue: { applied: false, added: 0, updated: 0, deleted: 0 } })
  expect(await storedHost(harness, host)).toHaveLength(1)
})

test('reconciliation never overwrites in_use of an attach handle', async () => {
  harness = await startHarness()
  const host = harness.key('busy')
  const { agent, driver } = testAgent(harness, { hostname: host })
  await harness.outcome(harness.inventoryQueue, await agent.reportInventory())
  const [device] = await storedHost(harness, host)
  const handle = device!.deployables[0]!.attachHandles[3]!
  await harness.prisma.attachHandle.update({ where: { id: handle.id }, data: { inUse: true } })
  driver.setAttribute(`${host}_FakeDevice`, 'rc', 'CUSTOM_FPGA_V2')
  expect(await harness.outcome(harness.inventoryQueue, await agent.reportInventory())).toEqual({
    returnvalue: { applied: true, added: 0, updated: 1, deleted: 0 },
  })
  expect((await harness.prisma.attachHandle.findUniqueOrThrow({ where: { id: handle.id } })).inUse).toBe(true)
})

test('a report that fails leaves the host as it was', async () => {
  harness = await startHarness()
  const [host, other] = [harness.key('victim'), harness.key('other')]
  const { agent, driver } = testAgent(harness, { hostname: host })
  await harness.outcome(harness.inventoryQueue, await agent.reportInventory())
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname: other }).agent.reportInventory())
  const before = await storedHost(harness, host)

  // A changed attribute, and a new device whose deployable name another host already has.
  driver.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_CHANGED')
  const devices = await driver.discover()
  const stolen = {
    ...devices[0]!,
    controlpath_id: { cpid_type: 'PCI' as const, cpid_info: 'stolen' },
    deployable_list: [{ ...devices[0]!.deployable_list[0]!, name: `${other}_FakeDevice` }],
  }
  const job = await harness.inventoryQueue.add(INVENTORY_REPORT_JOB, { hostname: host, version: Date.now() + 1000, devices: [...devices, stolen] })
  const { failedReason } = await harness.outcome(harness.inventoryQueue, job.id!)
  expect(failedReason).toMatch(/^conflict: host .* reports a deployable name another host already has/)
  expect(await storedHost(harness, host)).toEqual(before)
})

test('snapshots of one host arriving together: only the newest is reconciled', async () => {
  harness = await startHarness()
  const host = harness.key('chatty')
  const { agent, driver } = testAgent(harness, { hostname: host })
  for (let i = 0; i < 10; i++) {
    driver.setAttribute(`${host}_FakeDevice`, 'traits1', `CUSTOM_V${i}`)
    await agent.reportInventory()
  }
  await waitForHost(host, 'the newest snapshot', (found) => found[0]?.deployables[0]?.attributes.some((attribute) => attribute.value === 'CUSTOM_V9') === true)
  await harness.waitForJobsDone(harness.inventoryQueue, 'the inventory jobs')
  const completed = await harness.inventoryQueue.getJobs(['completed'])
  expect(completed.length).toBeGreaterThanOrEqual(1)
  expect(completed.length).toBeLessThanOrEqual(2)
  expect(completed.every((job) => job.data.hostname === host)).toBe(true)
})

/** A snapshot of `count` devices, one deployable each with an attribute and an attach handle. */
function manyDevices(host: string, count: number) {
  return Array.from({ length: count }, (_, index) => ({
    type: 'FPGA' as const,
    vendor: '0xABCD',
    model: 'bulk',
    std_board_info: { product_id: '0xBCCE' },
    vendor_board_info: '',
    stub: false,
    controlpath_id: { cpid_type: 'PCI' as const, cpid_info: `cp-${index}` },
    deployable_list: [
      {
        name: `${host}_${index}`,
        num_accelerators: 1,
        driver_name: 'fake',
        bitstream_id: null,
        attribute_list: [{ key: 'rc', value: 'FPGA' }],
        attach_handle_list: [{ attach_type: 'PCI' as const, attach_info: `ah-${index}`, in_use: false }],
      },
    ],
  }))
}

test('a host reporting 20,000 devices is stored in one transaction, and removed again', async () => {
  harness = await startHarness()
  const host = harness.key('huge')
  const started = Date.now()
  const added = await harness.client.reportInventory({ hostname: host, version: 1, devices: manyDevices(host, 20_000) })
  expect(await harness.outcome(harness.inventoryQueue, added)).toEqual({ returnvalue: { applied: true, added: 80_000, updated: 0, deleted: 0 } })
  console.log(`20,000 devices reconciled in ${Date.now() - started} ms`)
  expect(await harness.prisma.device.count({ where: { hostname: host } })).toBe(20_000)
  const removed = await harness.client.reportInventory({ hostname: host, version: 2, devices: [] })
  expect(await harness.outcome(harness.inventoryQueue, removed)).toEqual({ returnvalue: { applied: true, added: 0, updated: 0, deleted: 20_000 } })
  expect(await harness.prisma.device.count({ where: { hostname: host } })).toBe(0)
}, 120_000)

test('an inventory transaction that outlasts INVENTORY_TIMEOUT_MS fails with a reason saying so, and leaves nothing behind', async () => {
  harness = await startHarness({ INVENTORY_TIMEOUT_MS: '100' })
  const host = harness.key('slow')
  const job = await harness.client.reportInventory({ hostname: host, version: 1, devices: manyDevices(host, 20_000) })
  expect((await harness.outcome(harness.inventoryQueue, job)).failedReason).toEqual(
    `the inventory of host ${host} (20000 devices) was not applied within INVENTORY_TIMEOUT_MS (100 ms); it was rolled back, and the host's next report tries again`,
  )
  expect(await harness.prisma.device.count({ where: { hostname: host } })).toBe(0)
}, 120_000)
