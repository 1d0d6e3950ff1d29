import { expect, test } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { PciDeviceSpec, type PciCandidate } from '../../src/drivers/pci/pci-device-spec.ts'
import { PciWhitelist } from '../../src/drivers/pci/pci-whitelist.ts'

const fn = (address: string, vendorId = '8086', productId = '37c8', parentAddress: string | null = null): PciCandidate => ({
  vendorId,
  productId,
  address,
  parentAddress,
})
const spec = (entry: Record<string, unknown>) => new PciDeviceSpec(entry)

test('vendor_id and product_id match as hex numbers, with or without 0x and in any case; * or absent matches any', () => {
  expect(spec({ vendor_id: '0x8086', product_id: '37C8' }).matches(fn('0000:3d:00.0'))).toBe(true)
  expect(spec({ vendor_id: '8086', product_id: '37c9' }).matches(fn('0000:3d:00.0'))).toBe(false)
  expect(spec({ vendor_id: '10de' }).matches(fn('0000:3d:00.0'))).toBe(false)
  expect(spec({ vendor_id: '*', product_id: '*' }).matches(fn('0000:3d:00.0'))).toBe(true)
  expect(spec({}).matches(fn('0000:3d:00.0', '10de', '1eb8'))).toBe(true)
  // Zero-padded as devspec.py's '%04x' does: "de" is vendor 0x00de.
  expect(spec({ vendor_id: 'de' }).vendorId).toBe('00de')
})

test('glob addresses: fields may be *, missing leading fields are any, a missing function is any', () => {
  expect(spec({ address: '*:0a:00.*' }).matches(fn('0000:0a:00.1'))).toBe(true)
  expect(spec({ address: '*:0a:00.*' }).matches(fn('0000:0b:00.1'))).toBe(false)
  expect(spec({ address: ':00.' }).matches(fn('0001:5e:00.3'))).toBe(true)
  expect(spec({ address: ':00.' }).matches(fn('0001:5e:01.3'))).toBe(false)
  expect(spec({ address: '3b:00.0' }).matches(fn('0000:3b:00.0'))).toBe(true)
  expect(spec({ address: '0000:3b:00' }).matches(fn('0000:3b:00.7'))).toBe(true)
  // Hex fields compare as numbers: "3B" and "3b", "0:3b:0.0" and "0000:3b:00.0".
  expect(spec({ address: '0:3B:0.0' }).matches(fn('0000:3b:00.0'))).toBe(true)
})

test('regex addresses: one regular expression per field, matched from the start as Python’s re.match', () => {
  const entry = spec({ address: { domain: '.*', bus: '5e', slot: '00', function: '[2-5]' } })
  expect(['0000:5e:00.2', '0000:5e:00.5'].map((address) => entry.matches(fn(address)))).toEqual([true, true])
  expect(['0000:5e:00.1', '0000:5f:00.2', '0000:5e:01.2'].map((address) => entry.matches(fn(address)))).toEqual([false, false, false])
  expect(spec({ address: { bus: '5' } }).matches(fn('0000:5e:00.0'))).toBe(true)
  expect(spec({ address: { bus: 'e' } }).matches(fn('0000:5e:00.0'))).toBe(false)
})

test('a full address of a physical function also matches its virtual functions, as in Nova', () => {
  const pf = spec({ address: '0000:5e:00.0' })
  expect(pf.matches(fn('0000:5e:00.0'))).toBe(true)
  expect(pf.matches(fn('0000:5e:00.3', '15b3', '101e', '0000:5e:00.0'))).toBe(true)
  expect(pf.matches(fn('0000:5e:00.3', '15b3', '101e', '0000:5e:00.1'))).toBe(false)
  // A glob is no single address: only the addresses it names.
  expect(spec({ address: '0000:5e:00.*' }).matches(fn('0000:5e:01.3', '15b3', '101e', '0000:5e:00.0'))).toBe(false)
})

test('tags: resource_class, device_type and vgpu_type are read and checked; other tags are ignored', () => {
  const entry = spec({ vendor_id: '8086', resource_class: 'CUSTOM_QAT_C62X', device_type: 'QAT', physical_network: 'physnet1' })
  expect(entry).toMatchObject({ resourceClass: 'CUSTOM_QAT_C62X', deviceType: 'QAT', vgpuType: undefined })
  expect(spec({ vgpu_type: 'nvidia-223' }).vgpuType).toBe('nvidia-223')
})

test('bad entries are refused with Cyborg’s reasons', () => {
  const refusal = (entry: Record<string, unknown>) => () => spec(entry)
  expect(refusal({ vendor_id: '80g6' })).toThrow("property vendor_id ('80g6') does not parse as a hex number.")
  expect(refusal({ product_id: '1ffff' })).toThrow('property product_id (1ffff) is greater than the maximum allowable value (FFFF).')
  expect(refusal({ address: '0000:100:00.0' })).toThrow('property bus (100) is greater than the maximum allowable value (FF).')
  expect(refusal({ address: '0000:3b:20.0' })).toThrow('property slot (20) is greater than the maximum allowable value (1F).')
  expect(refusal({ address: '0000:3b:00.8' })).toThrow('property function (8) is greater than the maximum allowable value (7).')
  expect(refusal({ address: '0:0:0:3b:00.0' })).toThrow('the PCI address "0:0:0:3b:00.0" is not in domain:bus:slot.function form')
  expect(refusal({ address: { bus: '(' } })).toThrow('the address bus "(" is not a valid regular expression')
  expect(refusal({ address: 5 })).toThrow('the address 5 is neither a glob string nor a dict of regular expressions')
  expect(refusal({ devname: 'eth0' })).toThrow('"devname" (a network interface name) is not supported here')
  expect(refusal({ resource_class: 'custom_qat' })).toThrow('the tag resource_class ("custom_qat") must be a placement resource class such as CUSTOM_QAT')
  expect(refusal({ device_type: 'TPU' })).toThrow('the tag device_type ("TPU") must be one of GPU, FPGA, AICHIP, QAT, NIC, SSD')
  expect(refusal({ vgpu_type: 'nvidia 223' })).toThrow('the tag vgpu_type ("nvidia 223") must be an mdev type name such as nvidia-223')
  expect(refusal({ vendor_id: 8086 })).toThrow('property vendor_id (8086) must be a string')
})

test('the whitelist is a JSON dict or list of dicts; the first entry that matches is the device’s spec', () => {
  expect(PciWhitelist.parse('{"vendor_id": "8086"}').specs).toHaveLength(1)
  const whitelist = PciWhitelist.parse('[{"vendor_id": "8086", "resource_class": "CUSTOM_A"}, {"resource_class": "CUSTOM_B"}]')
  expect(whitelist.specFor(fn('0000:3d:00.0'))?.resourceClass).toBe('CUSTOM_A')
  expect(whitelist.specFor(fn('0000:3d:00.0', '10de'))?.resourceClass).toBe('CUSTOM_B')
  expect(new PciWhitelist().empty).toBe(true)
  expect(new PciWhitelist().specFor(fn('0000:3d:00.0'))).toBeUndefined()
  expect(() => PciWhitelist.parse('{vendor_id: 8086}')).toThrow("Invalid entry: '{vendor_id: 8086}'")
  expect(() => PciWhitelist.parse('"8086"')).toThrow(`Invalid entry: '"8086"'; Expecting list or dict`)
  expect(() => PciWhitelist.parse('[{"vendor_id": "8086"}, ["10de"]]')).toThrow(`entry 2: Invalid entry: '["10de"]'; Expecting dict`)
  expect(() => PciWhitelist.parse('[{"vendor_id": "8086"}, {"bus": 1, "product_id": "x"}]')).toThrow(
    "entry 2: property product_id ('x') does not parse as a hex number.",
  )
})

test('PCI_PASSTHROUGH_WHITELIST is checked when the configuration is loaded', () => {
  expect(loadConfig({ PCI_PASSTHROUGH_WHITELIST: '[{"vendor_id": "10de", "vgpu_type": "nvidia-223"}]' }).PCI_PASSTHROUGH_WHITELIST?.specs[0]?.vgpuType).toBe(
    'nvidia-223',
  )
  expect(() => loadConfig({ PCI_PASSTHROUGH_WHITELIST: '{"vendor_id": "10dex"}' })).toThrow(
    `invalid configuration:\n  PCI_PASSTHROUGH_WHITELIST="{\\"vendor_id\\": \\"10dex\\"}": entry 1: property vendor_id ('10dex') does not parse as a hex number.`,
  )
  expect(loadConfig({ AGENT_DRIVERS: ' nvidia_gpu, pci,,pci ', SYSFS_ROOT: '/host/sys' })).toMatchObject({
    AGENT_DRIVERS: ['nvidia_gpu', 'pci'],
    SYSFS_ROOT: '/host/sys',
  })
})
