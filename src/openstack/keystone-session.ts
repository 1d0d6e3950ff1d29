import type { Config } from '../config.ts'

/** A service user's password login, scoped to a project (keystoneauth1's `password` plugin). */
export interface PasswordCredentials {
  authUrl: string
  username: string
  password: string
  userDomainName?: string
  projectName: string
  projectDomainName?: string
}

/** An application credential (keystoneauth1's `v3applicationcredential` plugin): its project is built in. */
export interface ApplicationCredentials {
  authUrl: string
  applicationCredentialId: string
  applicationCredentialSecret: string
}

export type KeystoneCredentials = PasswordCredentials | ApplicationCredentials

export interface KeystoneSessionOptions {
  /** A request to Keystone that takes longer is abandoned: a hung Keystone must not hang its callers. */
  timeoutMs?: number
  /** A token this close to its expiry is renewed before it is handed out (default 2 minutes). */
  renewBeforeMs?: number
  /** The catalog's interface and region `endpoint()` picks when the caller names none. */
  interface?: string
  region?: string
}

/** Keystone did not answer, or answered with a server fault: the caller's request cannot be checked now. */
export class KeystoneUnavailableError extends Error {
  override name = 'KeystoneUnavailableError'
}

/** Keystone refused the service's own credentials, or the catalog has no such endpoint: a configuration fault. */
export class KeystoneConfigurationError extends Error {
  override name = 'KeystoneConfigurationError'
}

interface CatalogEntry {
  type: string
  endpoints: { interface: string; region_id?: string | null; region?: string | null; url: string }[]
}

interface ServiceToken {
  value: string
  expiresAt: number
  catalog: CatalogEntry[]
}

/**
 * The conductor's own session with Keystone, as keystoneauth1's Session: a service token from a
 * password or an application credential, renewed shortly before it expires (one login however many
 * callers ask at once), and the service catalog of that token for finding Nova and Placement.
 */
export class KeystoneSession {
  private readonly authUrl: string
  private readonly timeoutMs: number
  private readonly renewBeforeMs: number
  private current: ServiceToken | undefined
  private pending: Promise<ServiceToken> | undefined

  constructor(
    private readonly credentials: KeystoneCredentials,
    private readonly options: KeystoneSessionOptions = {},
  ) {
    this.authUrl = identityUrl(credentials.authUrl)
    this.timeoutMs = options.timeoutMs ?? 5000
    this.renewBeforeMs = options.renewBeforeMs ?? 120_000
  }

  /** The Keystone v3 URL every call goes to (`.../v3`, whatever form KEYSTONE_URL was given in). */
  get identityUrl(): string {
    return this.authUrl
  }

  /** A valid service token; logs in when there is none or the one held is about to expire. */
  async token(): Promise<string> {
    return (await this.session()).value
  }

  /** Forgets the token held, e.g. after a service answered 401 to it: the next call logs in again. */
  invalidate(): void {
    this.current = undefined
  }

  /**
   * The URL of a service in the token's catalog (`compute`, `placement`, ...), for an interface
   * (default the session's, else `public`) and a region (default the session's, else any).
   */
  async endpoint(serviceType: string, endpointInterface?: string, region?: string): Promise<string> {
    const wanted = endpointInterface ?? this.options.interface ?? 'public'
    const inRegion = region ?? this.options.region
    const { catalog } = await this.session()
    const service = catalog.find((entry) => entry.type === serviceType)
    const endpoint = service?.endpoints.find(
      (candidate) => candidate.interface === wanted && (inRegion === undefined || (candidate.region_id ?? candidate.region) === inRegion),
    )
    if (!endpoint) {
      throw new KeystoneConfigurationError(
        `Keystone's catalog has no ${wanted} endpoint of service type ${JSON.stringify(serviceType)}${inRegion ? ` in region ${inRegion}` : ''}`,
      )
    }
    return endpoint.url.replace(/\/+$/, '')
  }

  /** A request to Keystone with the session's timeout; a refused or hung connection becomes KeystoneUnavailableError. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response
    try {
      response = await fetch(`${this.authUrl}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (error) {
      throw new KeystoneUnavailableError(`Keystone at ${this.authUrl} did not answer: ${describe(error)}`)
    }
    if (response.status >= 500) {
      await response.body?.cancel()
      throw new KeystoneUnavailableError(`Keystone at ${this.authUrl} answered ${response.status} to ${init.method ?? 'GET'} ${path}`)
    }
    return response
  }

  private async session(): Promise<ServiceToken> {
    if (this.current && this.current.expiresAt - this.renewBeforeMs > Date.now()) return this.current
    // One login however many callers ask at once.
    this.pending ??= this.login().finally(() => (this.pending = undefined))
    this.current = await this.pending
    return this.current
  }

  private async login(): Promise<ServiceToken> {
    const response = await this.request('/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: authBody(this.credentials) }),
    })
    if (response.status !== 201) {
      const detail = await response.text()
      throw new KeystoneConfigurationError(`Keystone refused the conductor's service credentials (${response.status}): ${detail.slice(0, 300)}`)
    }
    const value = response.headers.get('x-subject-token')
    const body = (await response.json()) as { token: { expires_at: string; catalog?: CatalogEntry[] } }
    if (!value) throw new KeystoneUnavailableError('Keystone issued a token without X-Subject-Token')
    return { value, expiresAt: Date.parse(body.token.expires_at), catalog: body.token.catalog ?? [] }
  }
}

function authBody(credentials: KeystoneCredentials) {
  if ('applicationCredentialId' in credentials) {
    return {
      identity: {
        methods: ['application_credential'],
        application_credential: { id: credentials.applicationCredentialId, secret: credentials.applicationCredentialSecret },
      },
    }
  }
  return {
    identity: {
      methods: ['password'],
      password: { user: { name: credentials.username, password: credentials.password, domain: { name: credentials.userDomainName ?? 'Default' } } },
    },
    scope: { project: { name: credentials.projectName, domain: { name: credentials.projectDomainName ?? 'Default' } } },
  }
}

/** `http://keystone:5000`, `.../v3` or `.../v3/` → `.../v3`. */
function identityUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '')
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    return cause?.code ?? cause?.message ?? error.message
  }
  return String(error)
}

/** The session KEYSTONE_* configures (docs/openstack.md), or undefined when KEYSTONE_URL is unset. */
export function keystoneSessionFrom(config: Config): KeystoneSession | undefined {
  if (config.KEYSTONE_URL === undefined) return undefined
  const credentials: KeystoneCredentials =
    config.KEYSTONE_APPLICATION_CREDENTIAL_ID !== undefined
      ? {
          authUrl: config.KEYSTONE_URL,
          applicationCredentialId: config.KEYSTONE_APPLICATION_CREDENTIAL_ID,
          applicationCredentialSecret: config.KEYSTONE_APPLICATION_CREDENTIAL_SECRET!,
        }
      : {
          authUrl: config.KEYSTONE_URL,
          username: config.KEYSTONE_USERNAME!,
          password: config.KEYSTONE_PASSWORD!,
          userDomainName: config.KEYSTONE_USER_DOMAIN_NAME,
          projectName: config.KEYSTONE_PROJECT_NAME,
          projectDomainName: config.KEYSTONE_PROJECT_DOMAIN_NAME,
        }
  return new KeystoneSession(credentials, { timeoutMs: config.KEYSTONE_TIMEOUT_MS, interface: config.KEYSTONE_INTERFACE, region: config.KEYSTONE_REGION_NAME })
}
