// The pure half of the Placement sync: wanted providers from a host's tree, and their diff against Placement.
import { expect, test } from 'vitest'
import type { StoredHost } from '../../src/cache/inventory-cache.ts'
import type { ProviderSummary } from '../../src/placement/placement-client.ts'
import { placementBackoffMs } from '../../src/placement/placement-backoff.ts'
import {
  deletionOrder,
  inventoryChange,
  providerDigest,
  traitChange,
  treeChanges,
  wantedProviders,
  type WantedProvider,
} from '../../src/placement/provider-tree.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'

function host(deployables: { name: string; n: number; attributes: Record<string, string> }[]): StoredHost {
  let id = 0
  return {
    hostname: 'compute-1',
    version: 1,
    devices: [
      {
        id: ++id,
        type: 'FPGA',
        vendor: '0xABCD',
        model: 'm',
        std_board_info: {},
        vendor_board_info: '',
        cpid: { id: ++id, cpid_type: 'PCI', cpid_info: 'x' },
        deployables: deployables.map(({ name, n, attributes }) => ({
          id: ++id,
          name,
          num_accelerators: n,
          driver_name: 'fake',
          bitstream_id: null,
          attributes: Object.entries(attributes).map(([key, value]) => ({ id: ++id, key, value })),
          attach_handles: [],
        })),
      },
    ],
  }
}

const fpga: WantedProvider = {
  uuid: 'u',
  name: 'compute-1_FakeDevice',
  resourceClass: 'FPGA',
  total: 16,
  disabled: false,
  traits: ['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'],
}
const summary = (uuid: string, parent: string | null, generation = 1): ProviderSummary => ({
  uuid,
  name: uuid,
  generation,
  parent_provider_uuid: parent,
  root_provider_uuid: 'cn',
})

test("a deployable's provider: Cyborg's uuid3 of its name, its rc, its trait* attributes and OWNER_CYBORG, total = num_accelerators", () => {
  const { providers, skipped } = wantedProviders(
    host([
      { name: 'compute-1_FakeDevice', n: 16, attributes: { rc: 'FPGA', traits1: 'CUSTOM_FAKE_DEVICE', traits2: 'CUSTOM_B', vendor: 'x' } },
      { name: 'compute-1_NoClass', n: 2, attributes: { traits1: 'CUSTOM_FAKE_DEVICE' } },
    ]),
  )
  // Python: str(uuid.uuid3(uuid.NAMESPACE_DNS, 'compute-1_FakeDevice'))
  expect(resourceProviderUuid('compute-1_FakeDevice')).toBe('ab26a7c4-8d78-3524-940d-5e1a4f99d24a')
  expect(providers).toEqual([
    {
      uuid: resourceProviderUuid('compute-1_FakeDevice'),
      name: 'compute-1_FakeDevice',
      resourceClass: 'FPGA',
      total: 16,
      disabled: false,
      traits: ['CUSTOM_B', 'CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'],
    },
  ])
  expect(skipped).toEqual([{ name: 'compute-1_NoClass', reason: 'no "rc" attribute names its resource class' }])
})

test('a disabled device (maintaining) is wanted disabled; a tree cached without status counts as enabled', () => {
  const tree = host([{ name: 'compute-1_FakeDevice', n: 16, attributes: { rc: 'FPGA' } }])
  expect(wantedProviders(tree).providers[0]!.disabled).toBe(false)
  tree.devices[0]!.status = 'maintaining'
  expect(wantedProviders(tree).providers[0]!.disabled).toBe(true)
  tree.devices[0]!.status = 'enabled'
  expect(wantedProviders(tree).providers[0]!.disabled).toBe(false)
})

test('inventories: total = max_unit, what an operator set kept; unchanged → nothing to write; 0 accelerators → no inventory', () => {
  expect(inventoryChange(fpga, {})).toEqual({ FPGA: { total: 16, max_unit: 16, reserved: 0 } })
  expect(inventoryChange(fpga, { FPGA: { total: 16, max_unit: 16, reserved: 0, min_unit: 1, step_size: 1, allocation_ratio: 1 } })).toBeNull()
  expect(inventoryChange(fpga, { FPGA: { total: 8, max_unit: 8, reserved: 2, allocation_ratio: 1 } })).toEqual({
    FPGA: { total: 16, max_unit: 16, reserved: 2, allocation_ratio: 1 },
  })
  // A changed resource class replaces the old one.
  expect(inventoryChange({ ...fpga, resourceClass: 'CUSTOM_FPGA_V2' }, { FPGA: { total: 16, max_unit: 16 } })).toEqual({
    CUSTOM_FPGA_V2: { total: 16, max_unit: 16, reserved: 0 },
  })
  expect(inventoryChange({ ...fpga, total: 0 }, { FPGA: { total: 16, max_unit: 16 } })).toEqual({})
  expect(inventoryChange({ ...fpga, total: 0 }, {})).toBeNull()
})

test("reserved: all of it while the device is disabled; enabled again, the disable's whole reservation goes and an operator's partial one stays", () => {
  const disabled = { ...fpga, disabled: true }
  expect(inventoryChange(disabled, { FPGA: { total: 16, max_unit: 16, reserved: 2 } })).toEqual({ FPGA: { total: 16, max_unit: 16, reserved: 16 } })
  expect(inventoryChange(disabled, { FPGA: { total: 16, max_unit: 16, reserved: 16 } })).toBeNull()
  expect(inventoryChange(fpga, { FPGA: { total: 16, max_unit: 16, reserved: 16 } })).toEqual({ FPGA: { total: 16, max_unit: 16, reserved: 0 } })
  expect(inventoryChange(fpga, { FPGA: { total: 16, max_unit: 16, reserved: 3 } })).toBeNull()
})

test('traits: exactly the wanted set, so a changed trait is replaced; order does not matter', () => {
  expect(traitChange(fpga, ['OWNER_CYBORG', 'CUSTOM_FAKE_DEVICE'])).toBeNull()
  expect(traitChange(fpga, [])).toEqual(['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'])
  expect(traitChange(fpga, ['CUSTOM_OLD', 'OWNER_CYBORG'])).toEqual(['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'])
  expect(traitChange(fpga, ['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG', 'CUSTOM_EXTRA'])).toEqual(['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'])
})

test('the digest changes with anything written, and only with that', () => {
  expect(providerDigest(fpga)).toBe(providerDigest({ ...fpga }))
  for (const changed of [{ total: 8 }, { disabled: true }, { resourceClass: 'PGPU' }, { traits: ['OWNER_CYBORG'] }, { name: 'other' }]) {
    expect(providerDigest({ ...fpga, ...changed })).not.toBe(providerDigest(fpga))
  }
})

test('the tree: wanted providers to create, existing under the compute node, misplaced elsewhere; the rest unwanted, root excepted', () => {
  const wanted = ['a', 'b', 'c'].map((uuid) => ({ ...fpga, uuid }))
  const tree = [summary('cn', null), summary('a', 'cn', 3), summary('c', 'nova-child'), summary('nova-child', 'cn'), summary('gone', 'cn')]
  const changes = treeChanges(wanted, tree, 'cn')
  expect(changes.create.map((p) => p.uuid)).toEqual(['b'])
  expect(changes.existing).toEqual([{ wanted: wanted[0], held: tree[1] }])
  expect(changes.misplaced.map((p) => p.wanted.uuid)).toEqual(['c'])
  expect(changes.unwanted.map((p) => p.uuid)).toEqual(['nova-child', 'gone'])
  expect(treeChanges([], [summary('cn', null)], 'cn')).toEqual({ create: [], existing: [], misplaced: [], unwanted: [] })
})

test("a provider is deleted after its descendants, deepest first (Cyborg's _delete_provider_and_sub_providers)", () => {
  const tree = [summary('cn', null), summary('p', 'cn'), summary('c1', 'p'), summary('g1', 'c1'), summary('c2', 'p'), summary('other', 'cn')]
  expect(deletionOrder('p', tree)).toEqual(['g1', 'c1', 'c2', 'p'])
  expect(deletionOrder('other', tree)).toEqual(['other'])
})

test('retries back off exponentially from 500 ms to the maximum, jittered between half and all of it', () => {
  for (let i = 0; i < 50; i++) {
    const first = placementBackoffMs(1, 30_000)
    expect(first).toBeGreaterThanOrEqual(250)
    expect(first).toBeLessThanOrEqual(500)
    const capped = placementBackoffMs(20, 2000)
    expect(capped).toBeGreaterThanOrEqual(1000)
    expect(capped).toBeLessThanOrEqual(2000)
  }
  expect(placementBackoffMs(4, 30_000)).toBeGreaterThanOrEqual(2000)
})
