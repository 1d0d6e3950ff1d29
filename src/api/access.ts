import { createHash } from 'node:crypto'

/** Roles a bearer token may carry (API_TOKENS). */
export const roles = ['admin', 'service', 'agent', 'reader'] as const
export type Role = (typeof roles)[number]

/** Roles whose tokens act inside one project, and must name it. */
export const projectRoles: readonly Role[] = ['service', 'reader']

/**
 * What a route asks of its caller. `read`: the v2 resources and the entity reads; `arq.write`: create,
 * bind, unbind and delete ARQs; `device-profile.write`: create and delete device profiles; `report`:
 * the intake endpoints; `operate`: Bull Board and the dead letters.
 */
export type Permission = 'read' | 'arq.write' | 'device-profile.write' | 'report' | 'operate'

const grants: Record<Role, readonly Permission[]> = {
  admin: ['read', 'arq.write', 'device-profile.write', 'report', 'operate'],
  // Nova: reads, and the ARQ life cycle of its project's instances.
  service: ['read', 'arq.write'],
  // Agents on compute hosts: usage and inventory reports only.
  agent: ['report'],
  reader: ['read'],
}

export interface ApiToken {
  token: string
  role: Role
  /** The project a service or reader token acts in; null for admin (every project) and agent tokens. */
  project: string | null
}

/** Who is calling: the token's role and project, and an id that is not the secret (rate limits, logs). */
export interface Caller {
  id: string
  role: Role
  project: string | null
}

export function may(caller: Caller, permission: Permission): boolean {
  return grants[caller.role].includes(permission)
}

/**
 * The `project_id` of the commands a caller runs: none for admin (every project), else its own. Only
 * service and reader tokens reach scoped commands, and API_TOKENS gives each of them a project.
 */
export function projectScope(caller: Caller): string | undefined {
  return caller.role === 'admin' ? undefined : (caller.project ?? undefined)
}

/** A token's id: its SHA-256, so the lookup never compares secrets and logs never hold one. */
export function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
