import { PlacementError } from './placement-error.ts'
import type { TokenSource } from './token-source.ts'

/**
 * The one Placement microversion every call is made at: the lowest that has all of them, so any
 * Placement since Rocky (1.26) serves the conductor. It brings nested providers and `in_tree`
 * (1.14), `required` traits on the provider list (1.18), `PUT /resource_classes/{name}` without a body
 * (1.7), the new provider in the answer to `POST /resource_providers` (1.20), and a reserved inventory
 * equal to its total (1.26), which a disabled device's providers have (before it, Placement answers 400).
 */
export const PLACEMENT_MICROVERSION = '1.26'

/** A resource provider as `GET /resource_providers` lists it. */
export interface ProviderSummary {
  uuid: string
  name: string
  generation: number
  parent_provider_uuid: string | null
  root_provider_uuid: string
}

/** One resource class's inventory of a provider; Placement fills in what is left out. */
export interface InventoryRecord {
  total: number
  max_unit: number
  reserved?: number
  min_unit?: number
  step_size?: number
  allocation_ratio?: number
}

export type Inventories = Record<string, InventoryRecord>

/** How each call ended, for the metrics: `ok`, `not_found`, `conflict`, `client_error`, `server_error`, `unreachable`. */
export type RequestOutcome = 'ok' | 'not_found' | 'conflict' | 'client_error' | 'server_error' | 'unreachable'

export interface PlacementClientOptions {
  /** A call taking longer is abandoned: a hung Placement must not hold a sync job forever. */
  timeoutMs: number
  /** Told of every request and its outcome. */
  onRequest?: (method: string, outcome: RequestOutcome) => void
}

/**
 * The calls a Cyborg conductor makes to Placement (cyborg/common/placement_client.py), over fetch,
 * with a token from `tokens`. A 401 fetches a new token and retries once. Every answer outside 2xx
 * (and outside a 404 the caller expects) rejects with a PlacementError.
 */
export class PlacementClient {
  private readonly baseUrl: string

  constructor(
    baseUrl: string,
    private readonly tokens: TokenSource,
    private readonly options: PlacementClientOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
  }

  /** The same client, also counting each request in `counts` (GET a read, anything else a write). */
  counting(counts: { reads: number; writes: number }): PlacementClient {
    return new PlacementClient(this.baseUrl, this.tokens, {
      ...this.options,
      onRequest: (method, outcome) => {
        if (method === 'GET') counts.reads += 1
        else counts.writes += 1
        this.options.onRequest?.(method, outcome)
      },
    })
  }

  /** The compute node's provider: Nova names it after the hypervisor's nodename. */
  async providerByName(name: string): Promise<ProviderSummary | undefined> {
    const { resource_providers } = await this.call<{ resource_providers: ProviderSummary[] }>('GET', `/resource_providers?name=${encodeURIComponent(name)}`)
    return resource_providers[0]
  }

  /** Every provider of the tree `uuid` is in (the root first), or only those with `requiredTrait`. */
  async providersInTree(uuid: string, requiredTrait?: string): Promise<ProviderSummary[]> {
    const required = requiredTrait ? `&required=${encodeURIComponent(requiredTrait)}` : ''
    const { resource_providers } = await this.call<{ resource_providers: ProviderSummary[] }>('GET', `/resource_providers?in_tree=${uuid}${required}`)
    return resource_providers
  }

  async provider(uuid: string): Promise<ProviderSummary | undefined> {
    return this.call<ProviderSummary | undefined>('GET', `/resource_providers/${uuid}`, undefined, [404])
  }

  async createProvider(uuid: string, name: string, parentUuid: string): Promise<ProviderSummary> {
    return this.call<ProviderSummary>('POST', '/resource_providers', { uuid, name, parent_provider_uuid: parentUuid })
  }

  async inventories(uuid: string): Promise<{ generation: number; inventories: Inventories }> {
    const body = await this.call<{ resource_provider_generation: number; inventories: Inventories }>('GET', `/resource_providers/${uuid}/inventories`)
    return { generation: body.resource_provider_generation, inventories: body.inventories }
  }

  /** Replaces the provider's inventories; resolves to its new generation. */
  async setInventories(uuid: string, generation: number, inventories: Inventories): Promise<number> {
    const body = await this.call<{ resource_provider_generation: number }>('PUT', `/resource_providers/${uuid}/inventories`, {
      resource_provider_generation: generation,
      inventories,
    })
    return body.resource_provider_generation
  }

  async traits(uuid: string): Promise<{ generation: number; traits: string[] }> {
    const body = await this.call<{ resource_provider_generation: number; traits: string[] }>('GET', `/resource_providers/${uuid}/traits`)
    return { generation: body.resource_provider_generation, traits: body.traits }
  }

  /** Replaces the provider's traits; resolves to its new generation. */
  async setTraits(uuid: string, generation: number, traits: string[]): Promise<number> {
    const body = await this.call<{ resource_provider_generation: number }>('PUT', `/resource_providers/${uuid}/traits`, {
      resource_provider_generation: generation,
      traits,
    })
    return body.resource_provider_generation
  }

  /** Creates a custom resource class (201), or finds it there (204). */
  async ensureResourceClass(name: string): Promise<void> {
    await this.call('PUT', `/resource_classes/${encodeURIComponent(name)}`)
  }

  /** Creates a custom trait (201), or finds it there (204). */
  async ensureTrait(name: string): Promise<void> {
    await this.call('PUT', `/traits/${encodeURIComponent(name)}`)
  }

  /** Deletes a provider; one already gone counts as deleted. 409: it has allocations or children. */
  async deleteProvider(uuid: string): Promise<void> {
    await this.call('DELETE', `/resource_providers/${uuid}`, undefined, [404])
  }

  /** Whether Placement answers this conductor's token, and its highest microversion: a cheap authenticated read. */
  async probe(): Promise<string> {
    await this.call('GET', '/traits?name=in:OWNER_CYBORG')
    const { versions } = await this.call<{ versions: { max_version: string }[] }>('GET', '/')
    return `ok (placement ${versions[0]?.max_version ?? 'unknown'})`
  }

  private async call<T = undefined>(method: string, path: string, body?: unknown, tolerated: number[] = []): Promise<T> {
    let response = await this.send(method, path, body)
    if (response.status === 401) {
      // An expired or revoked service token: one fresh login, then the answer stands.
      await response.body?.cancel()
      this.tokens.invalidate()
      response = await this.send(method, path, body)
    }
    if (response.ok || tolerated.includes(response.status)) {
      const text = await response.text()
      return (response.ok && text !== '' ? JSON.parse(text) : undefined) as T
    }
    const text = await response.text()
    let code: string | undefined
    let detail = text
    try {
      const error = (JSON.parse(text) as { errors?: { code?: string; detail?: string }[] }).errors?.[0]
      code = error?.code
      detail = error?.detail ?? text
    } catch {
      // Not Placement's JSON error document (a proxy's page): the text itself says what happened.
    }
    throw new PlacementError(`Placement answered ${response.status} to ${method} ${path}: ${detail.trim().slice(0, 500)}`, response.status, code)
  }

  private async send(method: string, path: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      'x-auth-token': await this.tokens.token(),
      'openstack-api-version': `placement ${PLACEMENT_MICROVERSION}`,
      accept: 'application/json',
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      })
    } catch (error) {
      this.options.onRequest?.(method, 'unreachable')
      throw new PlacementError(`Placement at ${this.baseUrl} did not answer ${method} ${path}: ${describe(error)}`, 0)
    }
    this.options.onRequest?.(method, outcomeOf(response.status))
    return response
  }
}

function outcomeOf(status: number): RequestOutcome {
  if (status < 400) return 'ok'
  if (status === 404) return 'not_found'
  if (status === 409) return 'conflict'
  return status < 500 ? 'client_error' : 'server_error'
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
}
