import { createHash } from 'node:crypto'

/** Roles a bearer token may carry (API_TOKENS). */
export const roles = ['admin', 'service', 'agent', 'reader', 'operator'] as const
export type Role = (typeof roles)[number]

/** Roles whose tokens act inside one project, and must name it. */
export const projectRoles: readonly Role[] = ['service', 'reader']

/**
 * What a route asks of its caller. `read`: the v2 resources and the entity reads; `arq.write`: create,
 * bind, unbind and delete ARQs; `device-profile.write`: create and delete device profiles; `report`:
 * the intake endpoints; `operate`: Bull Board and the dead letters; `inventory.write`: device enable and
 * disable, attribute create and delete, deployable program (admin only, as Cyborg's policy); `observe`:
 * Bull Board read-only and the dead letters.
 */
export type Permission = 'read' | 'arq.write' | 'device-profile.write' | 'inventory.write' | 'report' | 'operate' | 'observe'

const grants: Record<Role, readonly Permission[]> = {
  admin: ['read', 'arq.write', 'device-profile.write', 'inventory.write', 'report', 'operate', 'observe'],
  // Nova: reads, and the ARQ life cycle of its project's instances.
  service: ['read', 'arq.write'],
  // Agents on compute hosts: usage and inventory reports only.
  agent: ['report'],
  reader: ['read'],
  // Operators watch the queues (Bull Board read-only, the dead letters) and change nothing.
  operator: ['observe'],
}

export interface ApiToken {
  token: string
  role: Role
  /** The project a service or reader token acts in; null for admin (every project), agent and operator tokens. */
  project: string | null
  /** The host an agent token reports for (`token:agent:<host>`); null: any host (an unbound agent token) or not an agent. */
  host: string | null
}

/** Who is calling: the token's role, project and host, and an id that is not the secret (rate limits, logs). */
export interface Caller {
  id: string
  role: Role
  project: string | null
  host: string | null
}

export function may(caller: Pick<Caller, 'role'>, permission: Permission): boolean {
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

/**
 * The role of a Keystone token, after Cyborg's policy defaults (cyborg/policies/base.py): `admin` acts
 * in every project; `member` and `service` may create, bind and delete their project's ARQs
 * (project_member_or_service) and read; `reader` only reads (project_reader_or_admin). Device profiles
 * stay admin-only, as in Cyborg. Undefined: none of these roles.
 */
export function keystoneRole(keystoneRoles: readonly string[]): Role | undefined {
  if (keystoneRoles.includes('admin')) return 'admin'
  if (keystoneRoles.includes('member') || keystoneRoles.includes('service')) return 'service'
  if (keystoneRoles.includes('reader')) return 'reader'
  return undefined
}

/** The role with its article, for messages: "an admin", "a service". */
export function aRole(role: string): string {
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`
}
