import { randomUUID } from 'node:crypto'

export interface TreeProvider {
  uuid: string
  name: string
  generation: number
  parent_provider_uuid: string | null
}

/** Calls on a real Placement as an operator or as Nova would make them, for tests to set up and to assert on. */
export class PlacementAdmin {
  constructor(
    readonly url: string,
    private readonly token: () => Promise<string> = async () => 'admin',
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown, microversion = '1.39'): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        'x-auth-token': await this.token(),
        'openstack-api-version': `placement ${microversion}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: answer } = await this.call<T>(method, path, body)
    if (status >= 300) throw new Error(`Placement answered ${status} to ${method} ${path}: ${JSON.stringify(answer)}`)
    return answer
  }

  /** The compute node's provider as nova-compute creates it: named after the nodename, with VCPU, memory and disk. */
  async createComputeNode(nodename: string): Promise<string> {
    const uuid = randomUUID()
    await this.ok('POST', '/resource_providers', { uuid, name: nodename })
    await this.ok('PUT', `/resource_providers/${uuid}/inventories`, {
      resource_provider_generation: 0,
      inventories: { VCPU: { total: 16 }, MEMORY_MB: { total: 65536 }, DISK_GB: { total: 500 } },
    })
    return uuid
  }

  async tree(rootUuid: string): Promise<TreeProvider[]> {
    return (await this.ok<{ resource_providers: TreeProvider[] }>('GET', `/resource_providers?in_tree=${rootUuid}`)).resource_providers
  }

  /** The children of the compute node with their inventories and traits, sorted by name. */
  async children(rootUuid: string) {
    const children = (await this.tree(rootUuid)).filter((provider) => provider.parent_provider_uuid === rootUuid)
    const described = await Promise.all(
      children.map(async ({ uuid, name, generation }) => ({
        uuid,
        name,
        generation,
        inventories: (await this.ok<{ inventories: Record<string, Record<string, number>> }>('GET', `/resource_providers/${uuid}/inventories`)).inventories,
        traits: (await this.ok<{ traits: string[] }>('GET', `/resource_providers/${uuid}/traits`)).traits.sort(),
      })),
    )
    return described.sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  /** Deletes a compute node's tree, children first. */
  async removeTree(rootUuid: string): Promise<void> {
    const tree = await this.tree(rootUuid).catch(() => [])
    for (const provider of tree.reverse()) await this.call('DELETE', `/resource_providers/${provider.uuid}`)
  }
}
