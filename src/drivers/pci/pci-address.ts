import { sortedPythonJson } from '../python-json.ts'

const ADDRESS = /^([\da-f]{4}):([\da-f]{2}):([\da-f]{2})\.([0-7])$/

/** A PCI function's address, `domain:bus:slot.function` in sysfs's lower-case hex ("0000:3b:00.0"). */
export class PciAddress {
  private constructor(
    readonly domain: string,
    readonly bus: string,
    readonly slot: string,
    readonly func: string,
  ) {}

  /** Parses a sysfs name; null when the text is no PCI address. */
  static parse(text: string): PciAddress | null {
    const match = ADDRESS.exec(text.toLowerCase())
    return match ? new PciAddress(match[1]!, match[2]!, match[3]!, match[4]!) : null
  }

  toString(): string {
    return `${this.domain}:${this.bus}:${this.slot}.${this.func}`
  }

  /** Cyborg's attach_info and cpid_info of a PCI function (pci_str_to_json): keys sorted, values strings. */
  toCyborgJson(extra: Record<string, string> = {}): string {
    return sortedPythonJson({ domain: this.domain, bus: this.bus, device: this.slot, function: this.func, ...extra })
  }
}
