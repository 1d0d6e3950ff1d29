import { deviceTypes, type DeviceType } from '../../queues/contract/inventory.ts'

// One entry of the PCI passthrough whitelist, parsed as Cyborg's (and Nova's) devspec.py does.

const ANY = '*'
const MAX = { vendor_id: 0xffff, product_id: 0xffff, domain: 0xffff, bus: 0xff, slot: 0x1f, function: 0x7 } as const
const WIDTH = { vendor_id: 4, product_id: 4, domain: 4, bus: 2, slot: 2, function: 1 } as const
type Field = keyof typeof MAX

/** What a whitelist entry is matched against: one PCI function as sysfs shows it. */
export interface PciCandidate {
  vendorId: string
  productId: string
  /** "0000:3b:00.0" */
  address: string
  /** The physical function's address when this function is an SR-IOV virtual function. */
  parentAddress: string | null
}

/** A whitelist entry that cannot be used; the message says which property and why, in Cyborg's words. */
export class PciWhitelistError extends Error {
  override name = 'PciWhitelistError'
}

/**
 * Matches PCI functions by vendor_id, product_id and address. The address is a glob string
 * ("*:0a:00.*", "0000:3b:00.0", ":00." ...) or a dict of regular expressions per field
 * ({"domain": ".*", "bus": "02", "slot": "01", "function": "[0-2]"}). A full address also matches
 * the virtual functions of the physical function it names, as in Nova.
 */
export class PciDeviceSpec {
  readonly vendorId: string
  readonly productId: string
  /** Tag resource_class: the placement resource class of the devices it admits. */
  readonly resourceClass: string | undefined
  /** Tag device_type: what the generic PCI driver reports them as; by default from their PCI class. */
  readonly deviceType: DeviceType | undefined
  /** Tag vgpu_type: the mdev type ("nvidia-223") an NVIDIA GPU it admits is offered as, in vGPUs. */
  readonly vgpuType: string | undefined
  private readonly matchAddress: (address: string[]) => boolean
  private readonly singleAddress: string | null

  constructor(entry: Record<string, unknown>) {
    if (entry.devname !== undefined) {
      throw new PciWhitelistError('"devname" (a network interface name) is not supported here; give the "address" of its PCI function instead')
    }
    this.vendorId = normalised('vendor_id', stringProperty(entry, 'vendor_id', ANY).trim())
    this.productId = normalised('product_id', stringProperty(entry, 'product_id', ANY).trim())
    this.resourceClass = tagProperty(entry, 'resource_class', /^[A-Z][A-Z0-9_]{0,254}$/, 'a placement resource class such as CUSTOM_QAT')
    const deviceType = tagProperty(entry, 'device_type', new RegExp(`^(${deviceTypes.join('|')})$`), `one of ${deviceTypes.join(', ')}`)
    this.deviceType = deviceType as DeviceType | undefined
    this.vgpuType = tagProperty(entry, 'vgpu_type', /^[\w.-]{1,64}$/, 'an mdev type name such as nvidia-223')
    const address = entry.address ?? `${ANY}:${ANY}:${ANY}.${ANY}`
    if (typeof address === 'string') {
      const fields = globFields(address)
      this.matchAddress = (actual) => fields.every((field, index) => field === ANY || field === actual[index])
      this.singleAddress = fields.includes(ANY) ? null : `${fields[0]}:${fields[1]}:${fields[2]}.${fields[3]}`
    } else if (typeof address === 'object' && address !== null && !Array.isArray(address)) {
      const patterns = regexFields(address as Record<string, unknown>)
      this.matchAddress = (actual) => patterns.every((pattern, index) => pattern.test(actual[index]!))
      this.singleAddress = null
    } else {
      throw new PciWhitelistError(`the address ${JSON.stringify(address)} is neither a glob string nor a dict of regular expressions`)
    }
  }

  matches(candidate: PciCandidate): boolean {
    if (this.vendorId !== ANY && this.vendorId !== candidate.vendorId.toLowerCase()) return false
    if (this.productId !== ANY && this.productId !== candidate.productId.toLowerCase()) return false
    if (this.singleAddress !== null && candidate.parentAddress === this.singleAddress) return true
    return this.matchAddress(splitAddress(candidate.address))
  }
}

function tagProperty(entry: Record<string, unknown>, name: string, format: RegExp, expected: string): string | undefined {
  const value = entry[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !format.test(value)) throw new PciWhitelistError(`the tag ${name} (${JSON.stringify(value)}) must be ${expected}`)
  return value
}

function stringProperty(entry: Record<string, unknown>, name: string, fallback: string): string {
  const value = entry[name] ?? fallback
  if (typeof value !== 'string') throw new PciWhitelistError(`property ${name} (${JSON.stringify(value)}) must be a string`)
  return value
}

/** A hex field as devspec.py's _set_pci_dev_info leaves it: "*", or zero-padded lower-case hex. */
function normalised(field: Field, text: string): string {
  if (text === ANY) return ANY
  // Python's int(text, 16) takes an optional 0x and surrounding blanks.
  const digits = text.trim().replace(/^0x/i, '')
  if (!/^[\da-f]+$/i.test(digits)) throw new PciWhitelistError(`property ${field} ('${text}') does not parse as a hex number.`)
  const value = parseInt(digits, 16)
  if (value > MAX[field]) {
    throw new PciWhitelistError(`property ${field} (${text}) is greater than the maximum allowable value (${MAX[field].toString(16).toUpperCase()}).`)
  }
  return value.toString(16).padStart(WIDTH[field], '0')
}

/** PciAddressGlobSpec: missing leading fields are "*" (":00." is slot 00 on any domain and bus). */
function globFields(address: string): string[] {
  const dot = address.indexOf('.')
  const [dbs, func] = dot === -1 ? [address, ''] : [address.slice(0, dot), address.slice(dot + 1)]
  const parts = dbs === '' ? [] : dbs.split(':')
  if (parts.length > 3) throw new PciWhitelistError(`the PCI address ${JSON.stringify(address)} is not in domain:bus:slot.function form`)
  const [domain, bus, slot] = [...Array(3 - parts.length).fill(ANY), ...parts].map((part: string) => part.trim() || ANY)
  return [normalised('domain', domain!), normalised('bus', bus!), normalised('slot', slot!), func.trim() ? normalised('function', func.trim()) : ANY]
}

/** PciAddressRegexSpec: each field a regular expression matched from the start, as Python's re.match. */
function regexFields(address: Record<string, unknown>): RegExp[] {
  return (['domain', 'bus', 'slot', 'function'] as const).map((field) => {
    const pattern = address[field] ?? '.*'
    if (typeof pattern !== 'string') throw new PciWhitelistError(`the address ${field} ${JSON.stringify(pattern)} must be a regular expression string`)
    try {
      return new RegExp(`^(?:${pattern})`)
    } catch {
      throw new PciWhitelistError(`the address ${field} ${JSON.stringify(pattern)} is not a valid regular expression`)
    }
  })
}

function splitAddress(address: string): string[] {
  const [domain = '', bus = '', rest = ''] = address.toLowerCase().split(':')
  const [slot = '', func = ''] = rest.split('.')
  return [domain, bus, slot, func]
}
