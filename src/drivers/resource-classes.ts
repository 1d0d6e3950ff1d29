import type { DeviceType } from '../queues/contract/inventory.ts'

/** The placement resource class a device type's deployables report by default (cyborg/common/constants.py). */
export const RESOURCE_CLASSES: Record<DeviceType, string> = {
  FPGA: 'FPGA',
  GPU: 'PGPU',
  AICHIP: 'CUSTOM_AICHIP',
  QAT: 'CUSTOM_QAT',
  NIC: 'CUSTOM_NIC',
  SSD: 'CUSTOM_SSD',
}
