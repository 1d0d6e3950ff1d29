import type { DeviceType, DriverDevice } from '../../queues/contract/inventory.ts'
import type { AcceleratorDriver, DeployableStats } from '../accelerator-driver.ts'
import { pythonJson } from '../python-json.ts'
import { RESOURCE_CLASSES } from '../resource-classes.ts'
import { SeededRandom } from './seeded-random.ts'

export interface DummyDriverOptions {
  hostname: string
  /** Devices on the host; 1 by default, as Cyborg's fake driver. */
  devices?: number
  /** Device types, cycled through; FPGA by default. */
  types?: DeviceType[]
  acceleratorsPerDevice?: number
  /** Seeds the usage metrics, so a run can be replayed. */
  seed?: number
}

// PCI functions per PCI device: attach handle n is device n/8, function n%8.
const FUNCTIONS_PER_PCI_DEVICE = 8

/**
 * Fabricates accelerators with no hardware. With the defaults it reports exactly what Cyborg's fake
 * driver does (cyborg/accelerator/drivers/fake.py): one FPGA of vendor 0xABCD, one deployable
 * `<host>_FakeDevice` with 16 accelerators, attributes traits1=CUSTOM_FAKE_DEVICE and rc=FPGA, and 16
 * TEST_PCI attach handles.
 */
export class DummyDriver implements AcceleratorDriver {
  private readonly random: SeededRandom
  private readonly acceleratorsPerDevice: number
  private readonly types: DeviceType[]
  private deviceCount: number
  /** Attribute overrides, deployable name → key → value (null removes the attribute). */
  private readonly attributeChanges = new Map<string, Map<string, string | null>>()

  constructor(private readonly options: DummyDriverOptions) {
    this.random = new SeededRandom(options.seed ?? 1)
    this.acceleratorsPerDevice = options.acceleratorsPerDevice ?? 16
    this.types = options.types ?? ['FPGA']
    this.deviceCount = options.devices ?? 1
  }

  /** Simulates devices appearing or disappearing. */
  setDeviceCount(count: number): void {
    this.deviceCount = count
  }

  /** Simulates a changed (or, with null, removed) attribute of one deployable. */
  setAttribute(deployableName: string, key: string, value: string | null): void {
    const changes = this.attributeChanges.get(deployableName) ?? new Map<string, string | null>()
    changes.set(key, value)
    this.attributeChanges.set(deployableName, changes)
  }

  async discover(): Promise<DriverDevice[]> {
    return Array.from({ length: this.deviceCount }, (_, index) => this.device(index))
  }

  async update(): Promise<boolean> {
    return true
  }

  /** One deployable per device; its name alone, not the whole device tree, which usage reports do not need. */
  async getStats(): Promise<DeployableStats[]> {
    const accelerators = this.acceleratorsPerDevice
    return Array.from({ length: this.deviceCount }, (_, index) => {
      const inUse = this.random.integer(0, accelerators)
      const utilization = accelerators === 0 ? 0 : (inUse / accelerators) * 100
      return {
        deployableName: this.deployableName(index),
        metrics: {
          accelerators_in_use: inUse,
          utilization_percent: Math.round(Math.min(100, utilization * (0.8 + 0.2 * this.random.next())) * 10) / 10,
          memory_used_mib: inUse * 512 + this.random.integer(0, 511),
          power_w: Math.round((25 + inUse * 9.5 + this.random.next() * 5) * 10) / 10,
          temperature_c: Math.round((38 + inUse * 2.1 + this.random.next() * 3) * 10) / 10,
        },
      }
    })
  }

  /** Cyborg's deployable name: the host name first, so it is unique across the cloud. */
  private deployableName(index: number): string {
    const deviceName = index === 0 ? 'FakeDevice' : `FakeDevice${index}`
    return `${this.options.hostname}_${deviceName}`.replace(/[^a-zA-Z0-9_-]/g, '_')
  }

  private device(index: number): DriverDevice {
    const type = this.types[index % this.types.length]!
    const bus = (0x0c + index).toString(16).padStart(2, '0')
    const slot = { domain: '0000', bus, device: '00', function: '0' }
    const name = this.deployableName(index)
    const attributes = new Map([
      ['traits1', 'CUSTOM_FAKE_DEVICE'],
      ['rc', RESOURCE_CLASSES[type]],
    ])
    for (const [key, value] of this.attributeChanges.get(name) ?? []) {
      if (value === null) attributes.delete(key)
      else attributes.set(key, value)
    }
    return {
      type,
      vendor: '0xABCD',
      model: 'miss model info',
      std_board_info: { device_id: '0xabcd', class: 'Fake class' },
      vendor_board_info: 'fake_vendor_info',
      stub: false,
      controlpath_id: { cpid_type: 'PCI', cpid_info: pythonJson(slot) },
      deployable_list: [
        {
          name,
          num_accelerators: this.acceleratorsPerDevice,
          driver_name: 'fake',
          bitstream_id: null,
          attribute_list: [...attributes].map(([key, value]) => ({ key, value })),
          // Function 0 is the control path; accelerators are functions 1 to n.
          attach_handle_list: Array.from({ length: this.acceleratorsPerDevice }, (_, i) => {
            const fn = i + 1
            const address = { ...slot, device: String(Math.floor(fn / FUNCTIONS_PER_PCI_DEVICE)), function: String(fn % FUNCTIONS_PER_PCI_DEVICE) }
            return { attach_type: 'TEST_PCI' as const, attach_info: pythonJson(address), in_use: false }
          }),
        },
      ],
    }
  }
}
