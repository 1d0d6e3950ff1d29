import { Prisma, type PrismaClient } from '../generated/prisma/client.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import type { CommandData } from '../queues/contract/commands.ts'
import type { AttributeView, DeviceView } from '../queues/contract/views.ts'
import { attributeView, deviceView } from './views.ts'

/**
 * What an operator changes in the inventory agents report: device status, attributes of a deployable.
 * Each change is told to `hostChanged` with the device's host, which forgets the host's cached tree
 * and queues its Placement sync: a disabled device's providers are reserved whole, as Cyborg's
 * device disable does, and an attribute may be a resource class or a trait.
 */
export class InventoryAdminService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly hostChanged: (hostname: string) => Promise<void>,
  ) {}

  async setDeviceStatus(data: CommandData<'device.set-status'>): Promise<DeviceView> {
    let device: Awaited<ReturnType<PrismaClient['device']['update']>>
    try {
      device = await this.prisma.device.update({ where: { uuid: data.uuid }, data: { status: data.status } })
    } catch (error) {
      throw notFoundFor(error, `no device ${data.uuid}`)
    }
    await this.hostChanged(device.hostname)
    return deviceView(device)
  }

  async createAttribute(data: CommandData<'attribute.create'>): Promise<AttributeView> {
    let attribute: Awaited<ReturnType<PrismaClient['attribute']['create']>>
    try {
      attribute = await this.prisma.attribute.create({
        data: { uuid: crypto.randomUUID(), deployableId: data.deployable_id, key: data.key, value: data.value },
      })
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new CommandError('conflict', `deployable ${data.deployable_id} already has an attribute ${JSON.stringify(data.key)}`)
      }
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003')
        throw new CommandError('not_found', `no deployable with id ${data.deployable_id}`)
      throw error
    }
    await this.deployableChanged(attribute.deployableId)
    return attributeView(attribute)
  }

  async deleteAttribute(data: CommandData<'attribute.delete'>): Promise<{ deleted: number }> {
    const attribute = await this.prisma.attribute.findUnique({ where: { uuid: data.uuid }, select: { deployableId: true } })
    const { count } = await this.prisma.attribute.deleteMany({ where: { uuid: data.uuid } })
    if (count === 0 || !attribute) throw new CommandError('not_found', `no attribute ${data.uuid}`)
    await this.deployableChanged(attribute.deployableId)
    return { deleted: count }
  }

  private async deployableChanged(deployableId: number): Promise<void> {
    const deployable = await this.prisma.deployable.findUnique({ where: { id: deployableId }, select: { device: { select: { hostname: true } } } })
    if (deployable) await this.hostChanged(deployable.device.hostname)
  }
}

/** A Prisma "record to update not found" as the command's not_found. */
function notFoundFor(error: unknown, message: string): unknown {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025' ? new CommandError('not_found', message) : error
}
