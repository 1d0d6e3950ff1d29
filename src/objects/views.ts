import type { ArqView, AttributeView, DeployableView, DeviceProfileView, DeviceView } from '../queues/contract/views.ts'
import type { AttachHandle, Attribute, Deployable, Device, DeviceProfile, ExtArq } from '../generated/prisma/client.ts'

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
    attach_handle_uuid: arq.attachHandle?.uuid ?? null,
    attach_handle_info: arq.attachHandle ? (JSON.parse(arq.attachHandle.attachInfo) as Record<string, string>) : null,
    project_id: arq.projectId,
    bind_failure_reason: arq.bindFailureReason,
    created_at: arq.createdAt.toISOString(),
    updated_at: arq.updatedAt.toISOString(),
  }
}

export function deviceView(device: Device): DeviceView {
  return {
    uuid: device.uuid,
    type: device.type,
    vendor: device.vendor,
    model: device.model,
    std_board_info: JSON.stringify(device.stdBoardInfo),
    vendor_board_info: device.vendorBoardInfo,
    hostname: device.hostname,
    status: device.status,
    created_at: device.createdAt.toISOString(),
    updated_at: device.updatedAt.toISOString(),
  }
}

export function deployableView(deployable: Deployable & { attributes: Attribute[] }): DeployableView {
  return {
    uuid: deployable.uuid,
    parent_id: deployable.parentId,
    root_id: deployable.rootId,
    name: deployable.name,
    num_accelerators: deployable.numAccelerators,
    device_id: deployable.deviceId,
    attributes_list: JSON.stringify(deployable.attributes.map((attribute) => ({ [attribute.key]: attribute.value }))),
    rp_uuid: deployable.rpUuid,
    driver_name: deployable.driverName,
    bitstream_id: deployable.bitstreamId,
    created_at: deployable.createdAt.toISOString(),
    updated_at: deployable.updatedAt.toISOString(),
  }
}

export function attributeView(attribute: Attribute): AttributeView {
  return {
    uuid: attribute.uuid,
    id: attribute.id,
    deployable_id: attribute.deployableId,
    key: attribute.key,
    value: attribute.value,
    created_at: attribute.createdAt.toISOString(),
    updated_at: attribute.updatedAt.toISOString(),
  }
}
