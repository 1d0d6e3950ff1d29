import { expect, test } from 'vitest'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { deployableUuid, resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'

test('by default it fabricates what Cyborg’s fake driver does', async () => {
  const [device, ...others] = await new DummyDriver({ hostname: 'compute-1' }).discover()
  expect(others).toEqual([])
  expect(device).toMatchObject({
    type: 'FPGA',
    vendor: '0xABCD',
    model: 'miss model info',
    std_board_info: { device_id: '0xabcd', class: 'Fake class' },
    vendor_board_info: 'fake_vendor_info',
    stub: false,
    controlpath_id: { cpid_type: 'PCI', cpid_info: '{"domain": "0000", "bus": "0c", "device": "00", "function": "0"}' },
  })
  const [deployable] = device!.deployable_list
  expect(deployable).toMatchObject({
    name: 'compute-1_FakeDevice',
    num_accelerators: 16,
    driver_name: 'fake',
    attribute_list: [
      { key: 'traits1', value: 'CUSTOM_FAKE_DEVICE' },
      { key: 'rc', value: 'FPGA' },
    ],
  })
  expect(deployable!.attach_handle_list).toHaveLength(16)
  expect(deployable!.attach_handle_list[0]).toEqual({
    attach_type: 'TEST_PCI',
    in_use: false,
    attach_info: '{"domain": "0000", "bus": "0c", "device": "0", "function": "1"}',
  })
  expect(deployable!.attach_handle_list[15]!.attach_info).toBe('{"domain": "0000", "bus": "0c", "device": "2", "function": "0"}')
})

test('devices per host and their types are configurable', async () => {
  const devices = await new DummyDriver({ hostname: 'h', devices: 3, types: ['GPU', 'NIC'], acceleratorsPerDevice: 4 }).discover()
  expect(devices.map((device) => [device.type, device.deployable_list[0]!.name, device.deployable_list[0]!.attach_handle_list.length])).toEqual([
    ['GPU', 'h_FakeDevice', 4],
    ['NIC', 'h_FakeDevice1', 4],
    ['GPU', 'h_FakeDevice2', 4],
  ])
  expect(new Set(devices.map((device) => device.controlpath_id.cpid_info)).size).toBe(3)
  expect(devices[1]!.deployable_list[0]!.attribute_list).toContainEqual({ key: 'rc', value: 'CUSTOM_NIC' })
})

test('usage metrics change between samples and are fixed by the seed', async () => {
  const first = new DummyDriver({ hostname: 'h', devices: 2, seed: 42 })
  const second = new DummyDriver({ hostname: 'h', devices: 2, seed: 42 })
  const [a1, a2] = [await first.getStats(), await first.getStats()]
  expect(await second.getStats()).toEqual(a1)
  expect(a2).not.toEqual(a1)
  for (const { deployableName, metrics } of a1) {
    expect(deployableName).toMatch(/^h_FakeDevice1?$/)
    expect(metrics.accelerators_in_use).toBeGreaterThanOrEqual(0)
    expect(metrics.accelerators_in_use).toBeLessThanOrEqual(16)
    expect(metrics.utilization_percent).toBeLessThanOrEqual(100)
    expect(Object.keys(metrics).sort()).toEqual(['accelerators_in_use', 'memory_used_mib', 'power_w', 'temperature_c', 'utilization_percent'])
  }
})

test('a deployable’s resource provider uuid is Cyborg’s uuid3(NAMESPACE_DNS, name)', () => {
  // Python: uuid.uuid3(uuid.NAMESPACE_DNS, 'host1_FakeDevice')
  expect(resourceProviderUuid('host1_FakeDevice')).toBe('efbfb633-384e-35e2-8ea0-b70c69aea9de')
  expect(deployableUuid('host1_FakeDevice')).toBe('1e98adad-76f2-51c5-917e-dc98e5d9f9b1')
})
