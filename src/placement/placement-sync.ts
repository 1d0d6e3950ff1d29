import type { Logger } from 'pino'
import type { StoredHost } from '../cache/inventory-cache.ts'
import { ComputeNodeMissingError } from './compute-node-missing-error.ts'
import type { Inventories, PlacementClient, ProviderSummary } from './placement-client.ts'
import { PlacementError } from './placement-error.ts'
import type { PlacementMetrics } from './placement-metrics.ts'
import type { ProviderRecord, RecordedProvider } from './provider-record.ts'
import {
  OWNER_TRAIT,
  deletionOrder,
  inventoryChange,
  providerDigest,
  traitChange,
  treeChanges,
  wantedProviders,
  type SkippedDeployable,
  type WantedProvider,
} from './provider-tree.ts'

/** What one sync of a host did, and the Placement requests it took: a sync job's return value. */
export interface HostSyncResult {
  hostname: string
  nodename: string
  /** The compute node's provider; null when the host has no deployable and Nova's provider is missing. */
  computeNode: string | null
  created: number
  updated: number
  unchanged: number
  deleted: number
  /** Providers that could not be deleted: they have allocations (an instance uses the accelerator). */
  inUse: string[]
  /** Wanted providers whose uuid Placement has in another place (moved host): left alone. */
  misplaced: string[]
  skipped: SkippedDeployable[]
  requests: { reads: number; writes: number }
}

interface ProviderContents {
  generation: number
  inventories: Inventories
  traits: string[]
}

export interface PlacementSyncOptions {
  /** host → Nova nodename, where they differ. */
  nodeNames: Map<string, string>
  /** Generation conflicts one provider's write survives within one sync (each time re-read). */
  conflictRetries?: number
}

/**
 * One host's deployables made resource providers in Placement, as Cyborg's conductor does in
 * report_data (_get_root_provider, provider_report, _delete_provider_and_sub_providers), but as the
 * difference between the wanted tree and what Placement holds, so it can run any number of times.
 * Each provider write names the generation it was read at; a conflict re-reads and retries.
 */
export class PlacementSync {
  /** Custom resource classes and traits this process has made sure exist (or is making sure of: concurrent syncs share one PUT). */
  private readonly ensured = new Map<string, Promise<void>>()
  private readonly conflictRetries: number

  constructor(
    private readonly client: PlacementClient,
    private readonly record: ProviderRecord,
    private readonly loadHost: (hostname: string) => Promise<StoredHost>,
    private readonly metrics: PlacementMetrics,
    private readonly log: Logger,
    private readonly options: PlacementSyncOptions,
  ) {
    this.conflictRetries = options.conflictRetries ?? 5
  }

  async sync(hostname: string): Promise<HostSyncResult> {
    const requests = { reads: 0, writes: 0 }
    const client = this.client.counting(requests)
    const nodename = this.options.nodeNames.get(hostname) ?? hostname
    const { providers: wanted, skipped } = wantedProviders(await this.loadHost(hostname))
    const result: HostSyncResult = {
      hostname,
      nodename,
      computeNode: null,
      created: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      inUse: [],
      misplaced: [],
      skipped,
      requests,
    }
    for (const { name, reason } of skipped) this.log.warn({ hostname, deployable: name, reason }, 'deployable not reported to Placement')

    const root = await client.providerByName(nodename)
    if (!root) {
      // Nothing of the host can be in Placement without its compute node: nothing to wait for either.
      if (wanted.length === 0) return result
      throw new ComputeNodeMissingError(hostname, nodename)
    }
    result.computeNode = root.uuid
    const tree = await client.providersInTree(root.uuid)
    const changes = treeChanges(wanted, tree, root.uuid)
    const recorded = await this.record.get(hostname)
    const synced = new Map<string, RecordedProvider>()

    for (const provider of changes.create) {
      const created = await this.create(client, provider, root.uuid)
      if (created === 'misplaced') {
        result.misplaced.push(provider.uuid)
        continue
      }
      const { generation } = await this.writeContents(client, provider, created)
      synced.set(provider.uuid, { generation, digest: providerDigest(provider) })
      result.created += 1
    }
    for (const { wanted: provider, held } of changes.existing) {
      const digest = providerDigest(provider)
      const last = recorded.get(provider.uuid)
      if (last && last.generation === held.generation && last.digest === digest) {
        synced.set(provider.uuid, last)
        result.unchanged += 1
        continue
      }
      const { generation, wrote } = await this.writeContents(client, provider)
      synced.set(provider.uuid, { generation, digest })
      if (wrote) result.updated += 1
      else result.unchanged += 1
    }
    for (const { wanted: provider, held } of changes.misplaced) {
      this.log.warn(
        { hostname, provider: provider.uuid, name: provider.name, parent: held.parent_provider_uuid },
        'provider exists under another parent; left alone',
      )
      result.misplaced.push(provider.uuid)
    }
    await this.deleteUnwanted(client, changes.unwanted, tree, root.uuid, result)

    await this.record.set(hostname, synced)
    return result
  }

  /** POST /resource_providers; a uuid already taken (another conductor just made it, or it lives elsewhere) is looked at. */
  private async create(client: PlacementClient, provider: WantedProvider, rootUuid: string): Promise<ProviderContents | undefined | 'misplaced'> {
    try {
      const created = await client.createProvider(provider.uuid, provider.name, rootUuid)
      return { generation: created.generation, inventories: {}, traits: [] }
    } catch (error) {
      if (!(error instanceof PlacementError) || error.status !== 409) throw error
      const found = await client.provider(provider.uuid)
      if (found?.parent_provider_uuid === rootUuid) return undefined
      if (!found) throw error
      return 'misplaced'
    }
  }

  /**
   * Makes the provider's inventories and traits the wanted ones, writing only what differs, at the
   * generation read (or `known`, just created). Resolves to the provider's generation afterwards.
   */
  private async writeContents(client: PlacementClient, provider: WantedProvider, known?: ProviderContents): Promise<{ generation: number; wrote: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const held = known ?? (await this.readContents(client, provider.uuid))
      known = undefined
      const inventories = inventoryChange(provider, held.inventories)
      const traits = traitChange(provider, held.traits)
      let generation = held.generation
      try {
        if (inventories) {
          await this.ensure([provider.resourceClass], (name) => client.ensureResourceClass(name))
          generation = await client.setInventories(provider.uuid, generation, inventories)
        }
        if (traits) {
          await this.ensure(traits, (name) => client.ensureTrait(name))
          generation = await client.setTraits(provider.uuid, generation, traits)
        }
        return { generation, wrote: inventories !== null || traits !== null }
      } catch (error) {
        if (!(error instanceof PlacementError)) throw error
        // A trait or class someone deleted since this process created it: make sure of each again next time.
        if (error.status === 400) this.ensured.clear()
        if (!error.isGenerationConflict || attempt >= this.conflictRetries) throw error
        this.metrics.generationConflict()
        this.log.info({ provider: provider.uuid, attempt: attempt + 1 }, 'provider changed by another writer since it was read: re-reading')
      }
    }
  }

  private async readContents(client: PlacementClient, uuid: string): Promise<ProviderContents> {
    for (;;) {
      const { generation, inventories } = await client.inventories(uuid)
      const traits = await client.traits(uuid)
      // Written in between: the two reads describe different generations.
      if (traits.generation === generation) return { generation, inventories, traits: traits.traits }
    }
  }

  /** Custom names are created once per process (PUT is idempotent); standard ones always exist. */
  private async ensure(names: string[], create: (name: string) => Promise<void>): Promise<void> {
    for (const name of names.filter((each) => each.startsWith('CUSTOM_'))) {
      let ensuring = this.ensured.get(name)
      if (!ensuring) {
        ensuring = create(name)
        this.ensured.set(name, ensuring)
        ensuring.catch(() => this.ensured.delete(name))
      }
      await ensuring
    }
  }

  /** Cyborg's providers of the tree that no deployable calls for any more, each with its descendants. */
  private async deleteUnwanted(
    client: PlacementClient,
    unwanted: ProviderSummary[],
    tree: ProviderSummary[],
    rootUuid: string,
    result: HostSyncResult,
  ): Promise<void> {
    if (unwanted.length === 0) return
    // Only providers carrying OWNER_CYBORG are ours: Nova's own children of the compute node stay.
    const owned = new Set((await client.providersInTree(rootUuid, OWNER_TRAIT)).map((provider) => provider.uuid))
    const gone = new Set<string>()
    for (const provider of unwanted.filter((candidate) => owned.has(candidate.uuid))) {
      for (const uuid of deletionOrder(provider.uuid, tree)) {
        if (gone.has(uuid)) continue
        try {
          await client.deleteProvider(uuid)
          gone.add(uuid)
          result.deleted += 1
        } catch (error) {
          if (!(error instanceof PlacementError) || error.status !== 409) throw error
          this.log.warn({ hostname: result.hostname, provider: uuid, reason: error.message }, 'provider of a removed deployable is in use; kept until freed')
          result.inUse.push(uuid)
          break
        }
      }
    }
  }
}
