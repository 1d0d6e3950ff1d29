import { randomBytes } from 'node:crypto'
import { KEYSTONE_ADMIN, passwordToken } from './openstack.ts'

export interface KeystoneUser {
  username: string
  password: string
  project: string
  userId: string
  projectId: string
}

/** Creates users, projects and role assignments through Keystone's own API, with the admin's token. */
export class KeystoneAdmin {
  private constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  static async connect(url: string): Promise<KeystoneAdmin> {
    return new KeystoneAdmin(url, await passwordToken(url, KEYSTONE_ADMIN))
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'x-auth-token': this.token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`Keystone ${method} ${path} answered ${response.status}: ${await response.text()}`)
    return (response.status === 204 ? undefined : await response.json()) as T
  }

  async projectId(name: string): Promise<string> {
    const { projects } = await this.call<{ projects: { id: string }[] }>('GET', `/projects?name=${encodeURIComponent(name)}`)
    if (projects[0]) return projects[0].id
    return (await this.call<{ project: { id: string } }>('POST', '/projects', { project: { name, domain_id: 'default' } })).project.id
  }

  async roleId(name: string): Promise<string> {
    const { roles } = await this.call<{ roles: { id: string }[] }>('GET', `/roles?name=${encodeURIComponent(name)}`)
    if (roles[0]) return roles[0].id
    return (await this.call<{ role: { id: string } }>('POST', '/roles', { role: { name } })).role.id
  }

  /** A new user with `roles` on `project` (created when missing). */
  async user(project: string, roles: string[], name = `u-${randomBytes(4).toString('hex')}`): Promise<KeystoneUser> {
    const projectId = await this.projectId(project)
    const password = randomBytes(12).toString('hex')
    const { user } = await this.call<{ user: { id: string } }>('POST', '/users', {
      user: { name, password, domain_id: 'default', default_project_id: projectId },
    })
    for (const role of roles) await this.call('PUT', `/projects/${projectId}/users/${user.id}/roles/${await this.roleId(role)}`)
    return { username: name, password, project, userId: user.id, projectId }
  }

  /** A password login of `user`, as a client gets its token. */
  login(user: KeystoneUser): Promise<string> {
    return passwordToken(this.url, { username: user.username, password: user.password, project: user.project })
  }

  /** Whether Keystone vouches for `token` (the admin validates it), as Nova's keystonemiddleware would. */
  async vouchesFor(token: string | undefined): Promise<boolean> {
    if (!token) return false
    const response = await fetch(`${this.url}/auth/tokens`, { headers: { 'x-auth-token': this.token, 'x-subject-token': token } })
    await response.body?.cancel()
    return response.status === 200
  }

  /** Revokes a token (DELETE /v3/auth/tokens), as a logout or an operator does. */
  async revoke(token: string): Promise<void> {
    const response = await fetch(`${this.url}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': this.token, 'x-subject-token': token } })
    if (response.status !== 204) throw new Error(`Keystone refused to revoke the token: ${response.status}`)
  }

  /** Registers (or re-points) a service's endpoints in the catalog. */
  async registerService(type: string, url: string): Promise<void> {
    const { services } = await this.call<{ services: { id: string }[] }>('GET', `/services?type=${type}`)
    const serviceId = services[0]?.id ?? (await this.call<{ service: { id: string } }>('POST', '/services', { service: { type, name: type } })).service.id
    const { endpoints } = await this.call<{ endpoints: { id: string }[] }>('GET', `/endpoints?service_id=${serviceId}`)
    for (const endpoint of endpoints) await this.call('DELETE', `/endpoints/${endpoint.id}`)
    for (const endpointInterface of ['public', 'internal', 'admin']) {
      await this.call('POST', '/endpoints', { endpoint: { service_id: serviceId, interface: endpointInterface, url, region_id: 'RegionOne' } })
    }
  }
}
