// The pure half of the Placement sync: the providers a host's inventory calls for, and how they
// differ from what Placement holds. No I/O here, so every rule is unit-tested without a server.
import type { StoredHost } from '../cache/inventory-cache.ts'
import { resourceProviderUuid } from '../queues/contract/name-uuid.ts'
import type { Inventories, ProviderSummary } from './placement-client.ts'

/** The os-traits trait Cyborg puts on the providers it manages (cyborg/common/constants.py OWNER_CYBORG). */
export const OWNER_TRAIT = 'OWNER_CYBORG'

/** A deployable as a resource provider: a child of the compute node's provider. */
export interface WantedProvider {
  uuid: string
  /** The deployable's name, as Cyborg names the provider. */
  name: string
  resourceClass: string
  /** num_accelerators: the inventory's total and max_unit. */
  total: number
  /** Whether the device is disabled (`maintaining`): then all of it is reserved, as Cyborg's device disable does. */
  disabled: boolean
  /** Sorted, OWNER_CYBORG included. */
  traits: string[]
}

export interface SkippedDeployable {
  name: string
  reason: string
}

/**
 * Cyborg's get_placement_needed_info_and_report for each deployable of the host: uuid3(NAMESPACE_DNS,
 * name), the `rc` attribute's resource class, the values of `trait*` attributes. A deployable without
 * an `rc` attribute cannot be offered (Cyborg fails on it) and is skipped, with the reason.
 */
export function wantedProviders(host: StoredHost): { providers: WantedProvider[]; skipped: SkippedDeployable[] } {
  const providers: WantedProvider[] = []
  const skipped: SkippedDeployable[] = []
  for (const device of host.devices) {
    for (const deployable of device.deployables) {
      const resourceClass = deployable.attributes.find((attribute) => attribute.key === 'rc')?.value
      if (!resourceClass) {
        skipped.push({ name: deployable.name, reason: 'no "rc" attribute names its resource class' })
        continue
      }
      const traits = deployable.attributes.filter((attribute) => attribute.key.startsWith('trait')).map((attribute) => attribute.value)
      providers.push({
        uuid: resourceProviderUuid(deployable.name),
        name: deployable.name,
        resourceClass,
        total: deployable.num_accelerators,
        disabled: device.status === 'maintaining',
        traits: [...new Set([...traits, OWNER_TRAIT])].sort(),
      })
    }
  }
  return { providers: providers.sort((a, b) => compare(a.name, b.name)), skipped }
}

/** What a provider's contents were last written from: equal digests, equal wanted contents. */
export function providerDigest(provider: WantedProvider): string {
  return JSON.stringify([provider.name, provider.resourceClass, provider.total, provider.disabled, provider.traits])
}

/**
 * The inventories to write for `wanted`, or null when `held` already has them. Cyborg's
 * _gen_resource_inventory: total = max_unit = num_accelerators. reserved = total while the device is
 * disabled (Cyborg's device disable); enabled, a reservation of the whole total is the disable's and goes
 * (Cyborg's enable sets 0), one of part of it is an operator's and is kept, as is the rest an operator set
 * on the record (allocation_ratio, ...). Placement refuses a total of 0: no accelerator, no inventory.
 */
export function inventoryChange(wanted: WantedProvider, held: Inventories): Inventories | null {
  const heldReserved = held[wanted.resourceClass]?.reserved ?? 0
  const reserved = wanted.disabled ? wanted.total : heldReserved < wanted.total ? heldReserved : 0
  const next: Inventories =
    wanted.total > 0 ? { [wanted.resourceClass]: { ...held[wanted.resourceClass], total: wanted.total, max_unit: wanted.total, reserved } } : {}
  const same =
    Object.keys(held).length === Object.keys(next).length &&
    Object.entries(next).every(
      ([rc, record]) => held[rc]?.total === record.total && held[rc]?.max_unit === record.max_unit && (held[rc]?.reserved ?? 0) === record.reserved,
    )
  return same ? null : next
}

/** The traits to write for `wanted`, or null when `held` has exactly them: a changed trait is replaced. */
export function traitChange(wanted: WantedProvider, held: string[]): string[] | null {
  const same = held.length === wanted.traits.length && [...held].sort().every((trait, index) => trait === wanted.traits[index])
  return same ? null : wanted.traits
}

export interface TreeChanges {
  /** Wanted providers Placement does not have in the tree. */
  create: WantedProvider[]
  /** Wanted providers Placement has under the compute node, with what it holds of them. */
  existing: { wanted: WantedProvider; held: ProviderSummary }[]
  /** Wanted providers in the tree under another parent: their uuid is taken, they cannot be created. */
  misplaced: { wanted: WantedProvider; held: ProviderSummary }[]
  /** Providers of the tree that are neither the root nor wanted: deleted if they are Cyborg's. */
  unwanted: ProviderSummary[]
}

/** Pairs the wanted providers with the compute node's tree (`in_tree`, root included) by uuid. */
export function treeChanges(wanted: WantedProvider[], tree: ProviderSummary[], rootUuid: string): TreeChanges {
  const held = new Map(tree.map((provider) => [provider.uuid, provider]))
  const wantedUuids = new Set(wanted.map((provider) => provider.uuid))
  const changes: TreeChanges = { create: [], existing: [], misplaced: [], unwanted: [] }
  for (const provider of wanted) {
    const found = held.get(provider.uuid)
    if (!found) changes.create.push(provider)
    else if (found.parent_provider_uuid === rootUuid) changes.existing.push({ wanted: provider, held: found })
    else changes.misplaced.push({ wanted: provider, held: found })
  }
  changes.unwanted = tree.filter((provider) => provider.uuid !== rootUuid && !wantedUuids.has(provider.uuid))
  return changes
}

/**
 * Cyborg's _delete_provider_and_sub_providers: the provider's descendants, deepest first, then the
 * provider itself. Placement refuses to delete a provider that still has children.
 */
export function deletionOrder(uuid: string, tree: ProviderSummary[]): string[] {
  const children = (parent: string) => tree.filter((provider) => provider.parent_provider_uuid === parent).map((provider) => provider.uuid)
  const order: string[] = []
  const visit = (node: string, seen: Set<string>) => {
    if (seen.has(node)) return
    seen.add(node)
    for (const child of children(node)) visit(child, seen)
    order.push(node)
  }
  visit(uuid, new Set())
  return order
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
