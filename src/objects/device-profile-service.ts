import { randomUUID } from 'node:crypto'
import { deviceProfileKey, type ViewCache } from '../cache/view-cache.ts'
import type { DeviceProfile, PrismaClient } from '../generated/prisma/client.ts'
import type { CommandData } from '../queues/contract/commands.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import { deviceProfileVisible, type DeviceProfileView } from '../queues/contract/views.ts'
import { isUuid } from '../queues/contract/name-uuid.ts'
import { isUniqueViolation } from '../db/sql-state.ts'
import { deviceProfileView } from './views.ts'

/** Device profiles, written through to PostgreSQL, then cached by uuid and by name. */
export class DeviceProfileService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly views: ViewCache,
  ) {}

  async create(data: CommandData<'device-profile.create'>): Promise<DeviceProfileView> {
    let profile: DeviceProfile
    try {
      profile = await this.prisma.deviceProfile.create({
        data: { uuid: randomUUID(), name: data.name, groups: data.groups, description: data.description ?? null, projectId: data.project_id ?? null },
      })
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new CommandError('conflict', `a device profile named ${JSON.stringify(data.name)} already exists`)
      }
      throw error
    }
    return this.cached(profile)
  }

  async list(data: CommandData<'device-profile.list'>): Promise<DeviceProfileView[]> {
    const profiles = await this.prisma.deviceProfile.findMany({
      where: { ...(data.name === undefined ? {} : { name: data.name }), ...visibleTo(data.project_id) },
      orderBy: { id: 'asc' },
    })
    return profiles.map(deviceProfileView)
  }

  /** By uuid or name, from the cache, else PostgreSQL. */
  async get(data: CommandData<'device-profile.get'>): Promise<DeviceProfileView> {
    const key = deviceProfileKey(data.id)
    const cached = await this.views.get<DeviceProfileView>('device-profile', key)
    if (cached && deviceProfileVisible(cached.project_id, data.project_id)) return cached
    const profile = await this.prisma.deviceProfile.findFirst({
      where: { ...(isUuid(data.id) ? { uuid: data.id } : { name: data.id }), ...visibleTo(data.project_id) },
    })
    if (!profile) throw new CommandError('not_found', `no device profile ${JSON.stringify(data.id)}`)
    return this.cached(profile)
  }

  async delete(data: CommandData<'device-profile.delete'>): Promise<{ deleted: number }> {
    const profile = await this.prisma.deviceProfile.findFirst({
      where: { ...(isUuid(data.id) ? { uuid: data.id } : { name: data.id }), ...visibleTo(data.project_id) },
      include: { _count: { select: { arqs: true } } },
    })
    if (!profile) throw new CommandError('not_found', `no device profile ${JSON.stringify(data.id)}`)
    if (profile._count.arqs > 0) {
      throw new CommandError(
        'conflict',
        `device profile ${JSON.stringify(profile.name)} is used by ${profile._count.arqs} accelerator request(s); delete them first`,
      )
    }
    await this.prisma.deviceProfile.delete({ where: { id: profile.id } })
    await this.views.drop('device-profile', [profile.uuid, deviceProfileKey(profile.name)])
    return { deleted: 1 }
  }

  /** Caches the committed profile under its uuid and its name; a recreated name has a higher id. */
  private async cached(profile: DeviceProfile): Promise<DeviceProfileView> {
    const view = deviceProfileView(profile)
    await this.views.put('device-profile', [
      { key: profile.uuid, version: profile.id, view },
      { key: deviceProfileKey(profile.name), version: profile.id, view },
    ])
    return view
  }
}

/** A project sees its own profiles and the public ones; no project (admin) sees all. */
function visibleTo(projectId: string | undefined) {
  return projectId === undefined ? {} : { OR: [{ projectId }, { projectId: null }] }
}
