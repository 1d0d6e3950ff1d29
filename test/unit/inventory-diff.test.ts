// The inventory diff that spares an unchanged snapshot any SQL, without a database.
import { expect, test } from 'vitest'
import type { StoredHost } from '../../src/cache/inventory-cache.ts'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { InventoryStore } from '../../src/objects/inventory-store.ts'
import type { DriverDevice, InventoryReport } from '../../src/queues/contract/inventory.ts'

/** The stored tree PostgreSQL would hold after reconciling these devices (row ids made up, jsonb keys reordered). */
function storedAs(hostname: string, devices: DriverDevice[]): StoredHost {
  let id = 0
  return {
    hostname,
    version: 1,
    devices: devices.map((device) => ({
      id: ++id,
      type: device.type,
      vendor: device.vendor,
      model: device.model,
      std_board_info: Object.fromEntries(Object.entries(device.std_board_info).reverse()),
      vendor_board_info: device.vendor_board_info,
      cpid: { id: ++id, ...device.controlpath_id },
      deployables: device.deployable_list.map((deployable) => ({
        id: ++id,
        name: deployable.name,
        num_accelerators: deployable.num_accelerators,
        driver_name: deployable.driver_name ?? null,
        bitstream_id: deployable.bitstream_id ?? null,
        attributes: [...deployable.attribute_list].reverse().map((attribute) => ({ id: ++id, ...attribute })),
        attach_handles: deployable.attach_handle_list.map(({ attach_type, attach_info }) => ({ id: ++id, attach_type, attach_info })),
      })),
    })),
  }
}

test('a snapshot equal to the stored tree is unchanged whatever the order of keys, attributes and devices', async () => {
  const devices = await new DummyDriver({ hostname: 'h', devices: 3, types: ['GPU', 'FPGA'] }).discover()
  const store = new InventoryStore()
  const report: InventoryReport = { hostname: 'h', version: 2, devices: [...devices].reverse() }
  expect(store.unchanged(storedAs('h', devices), report)).toBe(true)
})

test('a changed attribute, count, handle or device field, or a device gone, is a change', async () => {
  const devices = await new DummyDriver({ hostname: 'h', devices: 2 }).discover()
  const stored = storedAs('h', devices)
  const store = new InventoryStore()
  const changed = (edit: (copy: DriverDevice[]) => void) => {
    const copy = structuredClone(devices)
    edit(copy)
    return store.unchanged(stored, { hostname: 'h', version: 2, devices: copy })
  }
  expect(changed(() => {})).toBe(true)
  expect(changed((copy) => (copy[0]!.deployable_list[0]!.attribute_list[0]!.value = 'CUSTOM_OTHER'))).toBe(false)
  expect(changed((copy) => (copy[0]!.deployable_list[0]!.num_accelerators -= 1))).toBe(false)
  expect(changed((copy) => copy[1]!.deployable_list[0]!.attach_handle_list.pop())).toBe(false)
  expect(changed((copy) => (copy[0]!.model = 'another model'))).toBe(false)
  expect(changed((copy) => copy.pop())).toBe(false)
})

test('a stub device is left as stored: it neither changes nor removes the stored device', async () => {
  const devices = await new DummyDriver({ hostname: 'h', devices: 2 }).discover()
  const stub = { ...structuredClone(devices[1]!), stub: true, model: 'not read this time' }
  expect(new InventoryStore().unchanged(storedAs('h', devices), { hostname: 'h', version: 2, devices: [devices[0]!, stub] })).toBe(true)
})
