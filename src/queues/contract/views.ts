// What commands answer: Cyborg's objects as its v2 API shows them, and who may see each.

export const arqStates = ['Initial', 'BindStarted', 'Bound', 'BindFailed', 'Unbound', 'UnbindFailed', 'Deleting'] as const
export type ArqState = (typeof arqStates)[number]

export interface DeviceProfileView {
  uuid: string
  name: string
  groups: Record<string, string>[]
  description: string | null
  project_id: string | null
  created_at: string
  updated_at: string
}

export interface ArqView {
  uuid: string
  state: ArqState
  device_profile_name: string
  device_profile_group_id: number
  hostname: string | null
  device_rp_uuid: string | null
  instance_uuid: string | null
  attach_handle_type: string | null
  attach_handle_uuid: string | null
  attach_handle_info: Record<string, string> | null
  project_id: string | null
  /** Why the last bind ended BindFailed (an extension of Cyborg's ARQ); null otherwise. */
  bind_failure_reason: string | null
  created_at: string
  updated_at: string
}

/** Cyborg's device: a physical card. `std_board_info` is JSON text, as Cyborg shows it. */
export interface DeviceView {
  uuid: string
  type: string
  vendor: string
  model: string
  std_board_info: string
  vendor_board_info: string
  hostname: string
  status: string
  created_at: string
  updated_at: string
}

/** Cyborg's deployable; `attributes_list` is JSON text of `[{key: value}, ...]`, as Cyborg shows it. */
export interface DeployableView {
  uuid: string
  parent_id: number | null
  root_id: number | null
  name: string
  num_accelerators: number
  device_id: number
  attributes_list: string
  rp_uuid: string | null
  driver_name: string | null
  bitstream_id: string | null
  created_at: string
  updated_at: string
}

export interface AttributeView {
  uuid: string
  id: number
  deployable_id: number
  key: string
  value: string
  created_at: string
  updated_at: string
}

/** A project sees its own device profiles and the public ones (no project); no scope (admin) sees all. */
export function deviceProfileVisible(owner: string | null, scope: string | undefined): boolean {
  return scope === undefined || owner === null || owner === scope
}

/** A project sees its own ARQs only; no scope (admin) sees all. */
export function arqVisible(owner: string | null, scope: string | undefined): boolean {
  return scope === undefined || owner === scope
}
