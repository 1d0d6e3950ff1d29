import { randomUUID } from 'node:crypto'
import type { Prisma } from '../generated/prisma/client.ts'
import type { StoredDeployable, StoredDevice, StoredHost } from '../cache/inventory-cache.ts'
import type { DriverAttachHandle, DriverAttribute, DriverDeployable, DriverDevice, InventoryReport } from '../queues/inventory.ts'
import { deployableUuid, resourceProviderUuid } from '../queues/name-uuid.ts'

type Tx = Prisma.TransactionClient

export interface ReconcileCounts {
  added: number
  updated: number
  deleted: number
}

export interface ReconcileOutcome extends ReconcileCounts {
  /** Uuids of the deployables removed: their usage goes with them. */
  removedDeployables: string[]
}

const DEVICE_FIELDS = ['type', 'vendor', 'model', 'vendor_board_info'] as const

/**
 * A host's inventory in PostgreSQL, and Cyborg's report_data: the diff of a host's snapshot against its
 * stored tree at four levels (device by cpid_info, deployable by name, attribute by key, attach handle
 * by attach_info), applied with adds, updates and deletes.
 */
export class InventoryStore {
  async load(db: Tx, hostname: string): Promise<StoredHost> {
    const devices = await db.device.findMany({
      where: { hostname },
      orderBy: { id: 'asc' },
      include: {
        controlpathIds: { orderBy: { id: 'asc' } },
        deployables: { orderBy: { id: 'asc' }, include: { attributes: { orderBy: { id: 'asc' } }, attachHandles: { orderBy: { id: 'asc' } } } },
      },
    })
    return {
      hostname,
      version: Math.max(0, ...devices.map((device) => Number(device.version))),
      devices: devices.map((device) => ({
        id: device.id,
        type: device.type,
        vendor: device.vendor,
        model: device.model,
        std_board_info: device.stdBoardInfo,
        vendor_board_info: device.vendorBoardInfo,
        cpid: { id: device.controlpathIds[0]!.id, cpid_type: device.controlpathIds[0]!.cpidType, cpid_info: device.controlpathIds[0]!.cpidInfo },
        deployables: device.deployables.map((deployable) => ({
          id: deployable.id,
          name: deployable.name,
          num_accelerators: deployable.numAccelerators,
          driver_name: deployable.driverName,
          bitstream_id: deployable.bitstreamId,
          attributes: deployable.attributes.map(({ id, key, value }) => ({ id, key, value })),
          attach_handles: deployable.attachHandles.map(({ id, attachType, attachInfo }) => ({ id, attach_type: attachType, attach_info: attachInfo })),
        })),
      })),
    }
  }

  /** Whether the snapshot says nothing new of the stored tree: then there is nothing to write. */
  unchanged(stored: StoredHost, report: InventoryReport): boolean {
    const stubs = new Set(report.devices.filter((device) => device.stub).map((device) => device.controlpath_id.cpid_info))
    const storedView = stored.devices
      .filter((device) => !stubs.has(device.cpid.cpid_info))
      .map((device) =>
        comparable(device, device.cpid.cpid_info, device.deployables.map((deployable) => ({ ...deployable, handles: deployable.attach_handles }))),
      )
    const reportedView = report.devices
      .filter((device) => !device.stub)
      .map((device) =>
        comparable(device, device.controlpath_id.cpid_info, device.deployable_list.map((deployable) => ({ ...deployable, attributes: deployable.attribute_list, handles: deployable.attach_handle_list }))),
      )
    return canonicalJson(sortBy(storedView, 'cpid_info')) === canonicalJson(sortBy(reportedView, 'cpid_info'))
  }

  /** Applies the snapshot to the stored tree; `stored` must be what the transaction `tx` sees. */
  async reconcile(tx: Tx, stored: StoredHost, report: InventoryReport): Promise<ReconcileOutcome> {
    const run = new Reconciliation(tx, report.hostname, BigInt(report.version))
    await run.devices(stored.devices, report.devices)
    return run.outcome
  }
}

/** One snapshot's reconciliation, counting what it changes. */
class Reconciliation {
  readonly outcome: ReconcileOutcome = { added: 0, updated: 0, deleted: 0, removedDeployables: [] }

  constructor(
    private readonly tx: Tx,
    private readonly hostname: string,
    private readonly version: bigint,
  ) {}

  async devices(stored: StoredDevice[], reported: DriverDevice[]): Promise<void> {
    // A stub device is neither added nor deleted nor updated (Cyborg's drv_device_make_diff).
    const stubs = new Set(reported.filter((device) => device.stub).map((device) => device.controlpath_id.cpid_info))
    const diff = diffBy(stored, (device) => device.cpid.cpid_info, reported.filter((device) => !device.stub), (device) => device.controlpath_id.cpid_info)
    for (const old of diff.deleted.filter((device) => !stubs.has(device.cpid.cpid_info))) {
      this.outcome.removedDeployables.push(...old.deployables.map((deployable) => deployableUuid(deployable.name)))
      await this.tx.device.delete({ where: { id: old.id } })
      this.outcome.deleted += 1
    }
    for (const device of diff.added) await this.addDevice(device)
    for (const [old, device] of diff.same) {
      const changed = DEVICE_FIELDS.some((field) => old[field] !== device[field]) || canonicalJson(old.std_board_info) !== canonicalJson(device.std_board_info)
      if (changed) {
        await this.tx.device.update({
          where: { id: old.id },
          data: { type: device.type, vendor: device.vendor, model: device.model, stdBoardInfo: device.std_board_info as Prisma.InputJsonObject, vendorBoardInfo: device.vendor_board_info, version: this.version },
        })
        this.outcome.updated += 1
      }
      await this.deployables(old.id, old.cpid.id, old.deployables, device.deployable_list)
    }
  }

  private async addDevice(device: DriverDevice): Promise<void> {
    const created = await this.tx.device.create({
      data: {
        uuid: randomUUID(),
        type: device.type,
        vendor: device.vendor,
        model: device.model,
        stdBoardInfo: device.std_board_info as Prisma.InputJsonObject,
        vendorBoardInfo: device.vendor_board_info,
        hostname: this.hostname,
        version: this.version,
        controlpathIds: { create: { uuid: randomUUID(), cpidType: device.controlpath_id.cpid_type, cpidInfo: device.controlpath_id.cpid_info, version: this.version } },
      },
      include: { controlpathIds: true },
    })
    this.outcome.added += 1
    for (const deployable of device.deployable_list) await this.addDeployable(created.id, created.controlpathIds[0]!.id, deployable)
  }

  private async deployables(deviceId: number, cpidId: number, stored: StoredDeployable[], reported: DriverDeployable[]): Promise<void> {
    const diff = diffBy(stored, (deployable) => deployable.name, reported, (deployable) => deployable.name)
    if (diff.deleted.length > 0) {
      await this.tx.deployable.deleteMany({ where: { id: { in: diff.deleted.map((deployable) => deployable.id) } } })
      this.outcome.removedDeployables.push(...diff.deleted.map((deployable) => deployableUuid(deployable.name)))
      this.outcome.deleted += diff.deleted.length
    }
    for (const deployable of diff.added) await this.addDeployable(deviceId, cpidId, deployable)
    for (const [old, deployable] of diff.same) {
      if (old.num_accelerators !== deployable.num_accelerators || old.driver_name !== deployable.driver_name || old.bitstream_id !== deployable.bitstream_id) {
        await this.tx.deployable.update({
          where: { id: old.id },
          data: { numAccelerators: deployable.num_accelerators, driverName: deployable.driver_name, bitstreamId: deployable.bitstream_id, version: this.version },
        })
        this.outcome.updated += 1
      }
      await this.attributes(old.id, old.attributes, deployable.attribute_list)
      await this.attachHandles(old.id, cpidId, old.attach_handles, deployable.attach_handle_list)
    }
  }

  private async addDeployable(deviceId: number, cpidId: number, deployable: DriverDeployable): Promise<void> {
    await this.tx.deployable.create({
      data: {
        uuid: deployableUuid(deployable.name),
        name: deployable.name,
        numAccelerators: deployable.num_accelerators,
        deviceId,
        rpUuid: resourceProviderUuid(deployable.name),
        driverName: deployable.driver_name,
        bitstreamId: deployable.bitstream_id,
        version: this.version,
        attributes: { createMany: { data: deployable.attribute_list.map((attribute) => this.attributeRow(attribute)) } },
        attachHandles: { createMany: { data: deployable.attach_handle_list.map((handle) => this.attachHandleRow(cpidId, handle)) } },
      },
    })
    this.outcome.added += 1 + deployable.attribute_list.length + deployable.attach_handle_list.length
  }

  private async attributes(deployableId: number, stored: StoredDeployable['attributes'], reported: DriverAttribute[]): Promise<void> {
    const diff = diffBy(stored, (attribute) => attribute.key, reported, (attribute) => attribute.key)
    if (diff.deleted.length > 0) await this.tx.attribute.deleteMany({ where: { id: { in: diff.deleted.map((attribute) => attribute.id) } } })
    if (diff.added.length > 0) await this.tx.attribute.createMany({ data: diff.added.map((attribute) => ({ ...this.attributeRow(attribute), deployableId })) })
    const changed = diff.same.filter(([old, attribute]) => old.value !== attribute.value)
    for (const [old, attribute] of changed) await this.tx.attribute.update({ where: { id: old.id }, data: { value: attribute.value, version: this.version } })
    this.count(diff.added.length, changed.length, diff.deleted.length)
  }

  /** Attach handles by attach_info; `in_use` is the conductor's and is never taken from a report. */
  private async attachHandles(deployableId: number, cpidId: number, stored: StoredDeployable['attach_handles'], reported: DriverAttachHandle[]): Promise<void> {
    const diff = diffBy(stored, (handle) => handle.attach_info, reported, (handle) => handle.attach_info)
    if (diff.deleted.length > 0) await this.tx.attachHandle.deleteMany({ where: { id: { in: diff.deleted.map((handle) => handle.id) } } })
    if (diff.added.length > 0) await this.tx.attachHandle.createMany({ data: diff.added.map((handle) => ({ ...this.attachHandleRow(cpidId, handle), deployableId })) })
    const changed = diff.same.filter(([old, handle]) => old.attach_type !== handle.attach_type)
    for (const [old, handle] of changed) await this.tx.attachHandle.update({ where: { id: old.id }, data: { attachType: handle.attach_type, version: this.version } })
    this.count(diff.added.length, changed.length, diff.deleted.length)
  }

  private attributeRow(attribute: DriverAttribute) {
    return { uuid: randomUUID(), key: attribute.key, value: attribute.value, version: this.version }
  }

  private attachHandleRow(cpidId: number, handle: DriverAttachHandle) {
    return { uuid: randomUUID(), cpidId, attachType: handle.attach_type, attachInfo: handle.attach_info, inUse: false, version: this.version }
  }

  private count(added: number, updated: number, deleted: number): void {
    this.outcome.added += added
    this.outcome.updated += updated
    this.outcome.deleted += deleted
  }
}

type ComparableDeployable = Pick<StoredDeployable, 'name' | 'num_accelerators' | 'driver_name' | 'bitstream_id'> & {
  attributes: { key: string; value: string }[]
  handles: { attach_type: string; attach_info: string }[]
}

/** What reconciliation compares of a device, in one shape for the stored and the reported tree. */
function comparable(device: Pick<StoredDevice, (typeof DEVICE_FIELDS)[number] | 'std_board_info'>, cpidInfo: string, deployables: ComparableDeployable[]) {
  return {
    cpid_info: cpidInfo,
    ...Object.fromEntries(DEVICE_FIELDS.map((field) => [field, device[field]])),
    std_board_info: device.std_board_info,
    deployables: sortBy(
      deployables.map((deployable) => ({
        name: deployable.name,
        num_accelerators: deployable.num_accelerators,
        driver_name: deployable.driver_name,
        bitstream_id: deployable.bitstream_id,
        attributes: sortBy(deployable.attributes.map(({ key, value }) => ({ key, value })), 'key'),
        handles: sortBy(deployable.handles.map(({ attach_type, attach_info }) => ({ attach_type, attach_info })), 'attach_info'),
      })),
      'name',
    ),
  }
}

function sortBy<T extends Record<K, string>, K extends string>(items: T[], key: K): T[] {
  return [...items].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0))
}

/** JSON with object keys sorted: jsonb gives keys back in its own order, not the reporter's. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  )
}

/** Pairs stored and reported items by identity: what is gone, what is new, and what is in both. */
function diffBy<S, R>(stored: S[], storedId: (item: S) => string, reported: R[], reportedId: (item: R) => string) {
  const storedById = new Map(stored.map((item) => [storedId(item), item]))
  const reportedIds = new Set(reported.map(reportedId))
  return {
    deleted: stored.filter((item) => !reportedIds.has(storedId(item))),
    added: reported.filter((item) => !storedById.has(reportedId(item))),
    same: reported.filter((item) => storedById.has(reportedId(item))).map((item) => [storedById.get(reportedId(item))!, item] as const),
  }
}
