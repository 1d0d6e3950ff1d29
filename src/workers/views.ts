import type { ArqView, DeviceProfileView } from '../queues/commands.ts'
import type { AttachHandle, DeviceProfile, ExtArq } from '../generated/prisma/client.ts'

export function deviceProfileView(profile: DeviceProfile): DeviceProfileView {
  return {
    uuid: profile.uuid,
    name: profile.name,
    groups: profile.groups as Record<string, string>[],
    description: profile.description,
    project_id: profile.projectId,
    created_at: profile.createdAt.toISOString(),
    updated_at: profile.updatedAt.toISOString(),
  }
}

export type ArqWithRelations = ExtArq & { deviceProfile: DeviceProfile; attachHandle: AttachHandle | null }

export function arqView(arq: ArqWithRelations): ArqView {
  return {
    uuid: arq.uuid,
    state: arq.state,
    device_profile_name: arq.deviceProfile.name,
    device_profile_group_id: arq.deviceProfileGroupId,
    hostname: arq.hostname,
    device_rp_uuid: arq.deviceRpUuid,
    instance_uuid: arq.instanceUuid,
    attach_handle_type: arq.attachHandle?.attachType ?? null,
    attach_handle_info: arq.attachHandle ? (JSON.parse(arq.attachHandle.attachInfo) as Record<string, string>) : null,
    project_id: arq.projectId,
    created_at: arq.createdAt.toISOString(),
    updated_at: arq.updatedAt.toISOString(),
  }
}
