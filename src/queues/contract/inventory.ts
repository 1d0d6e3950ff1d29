import { z } from 'zod'

// What an agent reports of its host: Cyborg's driver objects (cyborg/objects/driver_objects), as JSON.

export const deviceTypes = ['GPU', 'FPGA', 'AICHIP', 'QAT', 'NIC', 'SSD'] as const
export type DeviceType = (typeof deviceTypes)[number]
export const attachTypes = ['PCI', 'MDEV', 'TEST_PCI'] as const

export const driverAttributeSchema = z.object({ key: z.string().min(1).max(255), value: z.string().max(255) })

export const driverAttachHandleSchema = z.object({
  attach_type: z.enum(attachTypes),
  /** JSON text identifying the handle, e.g. a PCI function's address. */
  attach_info: z.string().min(1).max(1024),
  /** Reported by the driver, never applied: the conductor owns allocation. */
  in_use: z.boolean().default(false),
})

export const driverDeployableSchema = z.object({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, "_" and "-" only (it names a placement provider)')
    .max(255),
  num_accelerators: z.int().min(0),
  driver_name: z.string().max(255).nullable().default(null),
  bitstream_id: z.string().max(255).nullable().default(null),
  attribute_list: z.array(driverAttributeSchema).default([]),
  attach_handle_list: z.array(driverAttachHandleSchema).default([]),
})

export const driverControlpathIdSchema = z.object({ cpid_type: z.literal('PCI'), cpid_info: z.string().min(1).max(1024) })

export const driverDeviceSchema = z.object({
  type: z.enum(deviceTypes),
  vendor: z.string().max(255),
  model: z.string().max(255),
  std_board_info: z.record(z.string(), z.unknown()),
  vendor_board_info: z.string().max(1024),
  /** A stub device is reported but neither added nor removed. */
  stub: z.boolean().default(false),
  controlpath_id: driverControlpathIdSchema,
  deployable_list: z.array(driverDeployableSchema).default([]),
})

/** Data of a `report` job on `conductor-inventory`: a full snapshot of one host. */
export const inventoryReportSchema = z.object({
  hostname: z.string().min(1).max(255),
  /** Monotonic per host (ms timestamp or sequence): an older snapshot than the last applied is ignored. */
  version: z.int().min(0),
  devices: z.array(driverDeviceSchema),
})

export type DriverAttribute = z.infer<typeof driverAttributeSchema>
export type DriverAttachHandle = z.infer<typeof driverAttachHandleSchema>
export type DriverDeployable = z.infer<typeof driverDeployableSchema>
export type DriverDevice = z.infer<typeof driverDeviceSchema>
export type InventoryReport = z.infer<typeof inventoryReportSchema>

/**
 * A host's snapshots replace each other while they wait (debounce: a report waits this long), and one
 * arriving while another is reconciled waits for it (keepLastIfActive): only the newest is reconciled,
 * never two of one host at once.
 */
export const INVENTORY_REPORT_DELAY_MS = 250

export const inventoryResultSchema = z.object({
  applied: z.boolean().describe('false when the snapshot was older than the last one applied'),
  added: z.int(),
  updated: z.int(),
  deleted: z.int(),
})
export type InventoryResult = z.infer<typeof inventoryResultSchema>
