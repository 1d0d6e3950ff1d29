import { randomUUID } from 'node:crypto'
import type { Prisma } from '../generated/prisma/client.ts'
import type { StoredDeployable, StoredDevice, StoredHost } from '../cache/inventory-cache.ts'
import type { DriverAttachHandle, DriverAttribute, DriverDeployable, DriverDevice, InventoryReport } from '../queues/contract/inventory.ts'
import { deployableUuid, resourceProviderUuid } from '../queues/contract/name-uuid.ts'
import { canonicalJson } from './canonical-json.ts'

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
        status: device.status,
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
        comparable(
          device,
          device.cpid.cpid_info,
          device.deployables.map((deployable) => ({ ...deployable, handles: deployable.attach_handles })),
        ),
      )
    const reportedView = report.devices
      .filter((device) => !device.stub)
      .map((device) =>
        comparable(
          device,
          device.controlpath_id.cpid_info,
          device.deployable_list.map((deployable) => ({ ...deployable, attributes: deployable.attribute_list, handles: deployable.attach_handle_list })),
        ),
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

/** A deployable to create, on the device (and control path) it belongs to. */
interface NewDeployable {
  deviceId: number
  cpidId: number
  deployable: DriverDeployable
}

type NewAttribute = DriverAttribute & { deployableId: number }
type NewAttachHandle = DriverAttachHandle & { deployableId: number; cpidId: number }

/**
 * One snapshot's reconciliation, counting what it changes. Deletes and updates go first, row by row
 * where something changed; what is new is created in bulk at the end, a few statements whatever the
 * count (a host of 20,000 devices took one statement per device and outlasted its transaction).
 */
class Reconciliation {
  readonly outcome: ReconcileOutcome = { added: 0, updated: 0, deleted: 0, removedDeployables: [] }
  private readonly newDeployables: NewDeployable[] = []
  private readonly newAttributes: NewAttribute[] = []
  private readonly newHandles: NewAttachHandle[] = []
  private readonly goneAttributes: number[] = []
  private readonly goneHandles: number[] = []

  constructor(
    private readonly tx: Tx,
    private readonly hostname: string,
    private readonly version: bigint,
  ) {}

  async devices(stored: StoredDevice[], reported: DriverDevice[]): Promise<void> {
    // A stub device is neither added nor deleted nor updated (Cyborg's drv_device_make_diff).
    const stubs = new Set(reported.filter((device) => device.stub).map((device) => device.controlpath_id.cpid_info))
    const diff = diffBy(
      stored,
      (device) => device.cpid.cpid_info,
      reported.filter((device) => !device.stub),
      (device) => device.controlpath_id.cpid_info,
    )
    const gone = diff.deleted.filter((device) => !stubs.has(device.cpid.cpid_info))
    if (gone.length > 0) {
      for (const old of gone) this.outcome.removedDeployables.push(...old.deployables.map((deployable) => deployableUuid(deployable.name)))
      await this.tx.device.deleteMany({ where: { id: { in: gone.map((device) => device.id) } } })
      this.outcome.deleted += gone.length
    }
    for (const [old, device] of diff.same) {
      const changed = DEVICE_FIELDS.some((field) => old[field] !== device[field]) || canonicalJson(old.std_board_info) !== canonicalJson(device.std_board_info)
      if (changed) {
        await this.tx.device.update({
          where: { id: old.id },
          data: {
            type: device.type,
            vendor: device.vendor,
            model: device.model,
            stdBoardInfo: device.std_board_info as Prisma.InputJsonObject,
            vendorBoardInfo: device.vendor_board_info,
            version: this.version,
          },
        })
        this.outcome.updated += 1
      }
      await this.deployables(old.id, old.cpid.id, old.deployables, device.deployable_list)
    }
    await this.removeChildren()
    await this.addDevices(diff.added)
    await this.addDeployables()
    await this.addAttributes()
    await this.addAttachHandles()
  }

  /**
   * The new devices and their control paths; their deployables join the others to create. Bulk rows go
   * through unnest, one statement per table: Prisma's createMany took about 200 µs a row.
   */
  private async addDevices(devices: DriverDevice[]): Promise<void> {
    if (devices.length === 0) return
    const uuids = devices.map(() => randomUUID())
    const created = await this.tx.$queryRaw<{ id: number; uuid: string }[]>`
      INSERT INTO devices (uuid, type, vendor, model, std_board_info, vendor_board_info, hostname, version)
      SELECT d.uuid, d.type::"DeviceType", d.vendor, d.model, d.std_board_info, d.vendor_board_info, ${this.hostname}, ${this.version}
      FROM unnest(
        ${uuids}::uuid[], ${devices.map((device) => device.type)}::text[], ${devices.map((device) => device.vendor)}::text[],
        ${devices.map((device) => device.model)}::text[], ${devices.map((device) => JSON.stringify(device.std_board_info))}::jsonb[],
        ${devices.map((device) => device.vendor_board_info)}::text[]
      ) AS d(uuid, type, vendor, model, std_board_info, vendor_board_info)
      RETURNING id, uuid::text AS uuid`
    const deviceIds = new Map(created.map(({ id, uuid }) => [uuid, id]))
    const ids = uuids.map((uuid) => deviceIds.get(uuid)!)
    const cpids = await this.tx.$queryRaw<{ id: number; device_id: number }[]>`
      INSERT INTO controlpath_ids (uuid, device_id, cpid_type, cpid_info, version)
      SELECT c.uuid, c.device_id, c.cpid_type, c.cpid_info, ${this.version}
      FROM unnest(
        ${devices.map(() => randomUUID())}::uuid[], ${ids}::int[], ${devices.map((device) => device.controlpath_id.cpid_type)}::text[],
        ${devices.map((device) => device.controlpath_id.cpid_info)}::text[]
      ) AS c(uuid, device_id, cpid_type, cpid_info)
      RETURNING id, device_id`
    const cpidIds = new Map(cpids.map(({ id, device_id }) => [device_id, id]))
    devices.forEach((device, index) => {
      const deviceId = ids[index]!
      for (const deployable of device.deployable_list) this.newDeployables.push({ deviceId, cpidId: cpidIds.get(deviceId)!, deployable })
    })
    this.outcome.added += devices.length
  }

  private async deployables(deviceId: number, cpidId: number, stored: StoredDeployable[], reported: DriverDeployable[]): Promise<void> {
    const diff = diffBy(
      stored,
      (deployable) => deployable.name,
      reported,
      (deployable) => deployable.name,
    )
    if (diff.deleted.length > 0) {
      await this.tx.deployable.deleteMany({ where: { id: { in: diff.deleted.map((deployable) => deployable.id) } } })
      this.outcome.removedDeployables.push(...diff.deleted.map((deployable) => deployableUuid(deployable.name)))
      this.outcome.deleted += diff.deleted.length
    }
    for (const deployable of diff.added) this.newDeployables.push({ deviceId, cpidId, deployable })
    for (const [old, deployable] of diff.same) {
      if (old.num_accelerators !== deployable.num_accelerators || old.driver_name !== deployable.driver_name || old.bitstream_id !== deployable.bitstream_id) {
        await this.tx.deployable.update({
          where: { id: old.id },
          data: {
            numAccelerators: deployable.num_accelerators,
            driverName: deployable.driver_name,
            bitstreamId: deployable.bitstream_id,
            version: this.version,
          },
        })
        this.outcome.updated += 1
      }
      await this.attributes(old.id, old.attributes, deployable.attribute_list)
      await this.attachHandles(old.id, cpidId, old.attach_handles, deployable.attach_handle_list)
    }
  }

  /** Every new deployable, in one statement; their attributes and attach handles join the others to create. */
  private async addDeployables(): Promise<void> {
    if (this.newDeployables.length === 0) return
    const deployables = this.newDeployables.map(({ deployable }) => deployable)
    const created = await this.tx.$queryRaw<{ id: number; name: string }[]>`
      INSERT INTO deployables (uuid, name, num_accelerators, device_id, rp_uuid, driver_name, bitstream_id, version)
      SELECT d.uuid, d.name, d.num_accelerators, d.device_id, d.rp_uuid, d.driver_name, d.bitstream_id, ${this.version}
      FROM unnest(
        ${deployables.map((deployable) => deployableUuid(deployable.name))}::uuid[], ${deployables.map((deployable) => deployable.name)}::text[],
        ${deployables.map((deployable) => deployable.num_accelerators)}::int[], ${this.newDeployables.map(({ deviceId }) => deviceId)}::int[],
        ${deployables.map((deployable) => resourceProviderUuid(deployable.name))}::uuid[], ${deployables.map((deployable) => deployable.driver_name)}::text[],
        ${deployables.map((deployable) => deployable.bitstream_id)}::text[]
      ) AS d(uuid, name, num_accelerators, device_id, rp_uuid, driver_name, bitstream_id)
      RETURNING id, name`
    const ids = new Map(created.map(({ id, name }) => [name, id]))
    for (const { cpidId, deployable } of this.newDeployables) {
      const deployableId = ids.get(deployable.name)!
      for (const attribute of deployable.attribute_list) this.newAttributes.push({ ...attribute, deployableId })
      for (const handle of deployable.attach_handle_list) this.newHandles.push({ ...handle, deployableId, cpidId })
    }
    this.outcome.added += created.length
  }

  private async addAttributes(): Promise<void> {
    const attributes = this.newAttributes
    if (attributes.length === 0) return
    await this.tx.$executeRaw`
      INSERT INTO attributes (uuid, deployable_id, key, value, version)
      SELECT a.uuid, a.deployable_id, a.key, a.value, ${this.version}
      FROM unnest(
        ${attributes.map(() => randomUUID())}::uuid[], ${attributes.map((attribute) => attribute.deployableId)}::int[],
        ${attributes.map((attribute) => attribute.key)}::text[], ${attributes.map((attribute) => attribute.value)}::text[]
      ) AS a(uuid, deployable_id, key, value)`
    this.outcome.added += attributes.length
  }

  /** New attach handles are free: `in_use` is the conductor's and is never taken from a report. */
  private async addAttachHandles(): Promise<void> {
    const handles = this.newHandles
    if (handles.length === 0) return
    await this.tx.$executeRaw`
      INSERT INTO attach_handles (uuid, deployable_id, cpid_id, in_use, attach_type, attach_info, version)
      SELECT h.uuid, h.deployable_id, h.cpid_id, false, h.attach_type::"AttachType", h.attach_info, ${this.version}
      FROM unnest(
        ${handles.map(() => randomUUID())}::uuid[], ${handles.map((handle) => handle.deployableId)}::int[], ${handles.map((handle) => handle.cpidId)}::int[],
        ${handles.map((handle) => handle.attach_type)}::text[], ${handles.map((handle) => handle.attach_info)}::text[]
      ) AS h(uuid, deployable_id, cpid_id, attach_type, attach_info)`
    this.outcome.added += handles.length
  }

  private async attributes(deployableId: number, stored: StoredDeployable['attributes'], reported: DriverAttribute[]): Promise<void> {
    const changed = this.children(
      stored,
      (attribute) => attribute.key,
      reported,
      this.goneAttributes,
      (old, attribute) => old.value !== attribute.value,
    )
    for (const attribute of changed.added) this.newAttributes.push({ ...attribute, deployableId })
    for (const [old, attribute] of changed.updated)
      await this.tx.attribute.update({ where: { id: old.id }, data: { value: attribute.value, version: this.version } })
  }

  /** Attach handles by attach_info; `in_use` is the conductor's and is never taken from a report. */
  private async attachHandles(deployableId: number, cpidId: number, stored: StoredDeployable['attach_handles'], reported: DriverAttachHandle[]): Promise<void> {
    const changed = this.children(
      stored,
      (handle) => handle.attach_info,
      reported,
      this.goneHandles,
      (old, handle) => old.attach_type !== handle.attach_type,
    )
    for (const handle of changed.added) this.newHandles.push({ ...handle, deployableId, cpidId })
    for (const [old, handle] of changed.updated)
      await this.tx.attachHandle.update({ where: { id: old.id }, data: { attachType: handle.attach_type, version: this.version } })
  }

  /**
   * The diff of one deployable's attributes or attach handles, matched by `id`: the ids of those gone
   * join `gone` (deleted in one statement for the whole host), and what is new and what changed is returned.
   */
  private children<S extends { id: number }, R>(
    stored: S[],
    id: (item: S | R) => string,
    reported: R[],
    gone: number[],
    isChanged: (old: S, now: R) => boolean,
  ): { added: R[]; updated: (readonly [S, R])[] } {
    const diff = diffBy(stored, id, reported, id)
    for (const old of diff.deleted) gone.push(old.id)
    const updated = diff.same.filter(([old, now]) => isChanged(old, now))
    this.outcome.deleted += diff.deleted.length
    this.outcome.updated += updated.length
    return { added: diff.added, updated }
  }

  /** The attributes and attach handles gone from deployables that stay. */
  private async removeChildren(): Promise<void> {
    if (this.goneAttributes.length > 0) await this.tx.attribute.deleteMany({ where: { id: { in: this.goneAttributes } } })
    if (this.goneHandles.length > 0) await this.tx.attachHandle.deleteMany({ where: { id: { in: this.goneHandles } } })
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
        attributes: sortBy(
          deployable.attributes.map(({ key, value }) => ({ key, value })),
          'key',
        ),
        handles: sortBy(
          deployable.handles.map(({ attach_type, attach_info }) => ({ attach_type, attach_info })),
          'attach_info',
        ),
      })),
      'name',
    ),
  }
}

function sortBy<T extends Record<K, string>, K extends string>(items: T[], key: K): T[] {
  return [...items].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0))
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
