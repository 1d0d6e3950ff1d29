import { PciDeviceSpec, PciWhitelistError, type PciCandidate } from './pci-device-spec.ts'

/**
 * Which PCI devices the agent may offer (Cyborg's pci/whitelist.py): a JSON dict or list of dicts,
 * as Cyborg's and Nova's [pci] passthrough_whitelist. The first entry that matches a device is its spec.
 */
export class PciWhitelist {
  constructor(readonly specs: PciDeviceSpec[] = []) {}

  /** Parses the JSON text; an invalid entry throws a PciWhitelistError naming it by position. */
  static parse(text: string): PciWhitelist {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new PciWhitelistError(`Invalid entry: '${text}'`)
    }
    const entries = Array.isArray(parsed) ? parsed : [parsed]
    if (typeof parsed !== 'object' || parsed === null) throw new PciWhitelistError(`Invalid entry: '${text}'; Expecting list or dict`)
    return new PciWhitelist(
      entries.map((entry: unknown, index) => {
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
          throw new PciWhitelistError(`entry ${index + 1}: Invalid entry: '${JSON.stringify(entry)}'; Expecting dict`)
        }
        try {
          return new PciDeviceSpec(entry as Record<string, unknown>)
        } catch (error) {
          throw new PciWhitelistError(`entry ${index + 1}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }),
    )
  }

  get empty(): boolean {
    return this.specs.length === 0
  }

  specFor(candidate: PciCandidate): PciDeviceSpec | undefined {
    return this.specs.find((spec) => spec.matches(candidate))
  }
}
