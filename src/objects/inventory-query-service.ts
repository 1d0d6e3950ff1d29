import type { PrismaClient } from '../generated/prisma/client.ts'
import type { CommandData } from '../queues/contract/commands.ts'
import type { AttributeView, DeployableView, DeviceView } from '../queues/contract/views.ts'
import { attributeView, deployableView, deviceView } from './views.ts'

/** The inventory as the HTTP API lists it: devices, deployables and attributes, with Cyborg's filters. */
export class InventoryQueryService {
  constructor(private readonly prisma: PrismaClient) {}

  async devices(data: CommandData<'device.list'>): Promise<DeviceView[]> {
    const { uuid, type, vendor, hostname } = data
    const devices = await this.prisma.device.findMany({ where: { uuid, type, vendor, hostname }, orderBy: { id: 'asc' } })
    return devices.map(deviceView)
  }

  async deployables(data: CommandData<'deployable.list'>): Promise<DeployableView[]> {
    const deployables = await this.prisma.deployable.findMany({
      where: { uuid: data.uuid },
      include: { attributes: { orderBy: { id: 'asc' } } },
      orderBy: { id: 'asc' },
    })
    return deployables.map(deployableView)
  }

  async attributes(data: CommandData<'attribute.list'>): Promise<AttributeView[]> {
    const { uuid, deployable_id: deployableId, key } = data
    const attributes = await this.prisma.attribute.findMany({ where: { uuid, deployableId, key }, orderBy: { id: 'asc' } })
    return attributes.map(attributeView)
  }

  /** Proves that this worker reaches PostgreSQL. */
  async ping(): Promise<{ database: 'ok' }> {
    await this.prisma.$queryRaw`SELECT 1`
    return { database: 'ok' }
  }
}
