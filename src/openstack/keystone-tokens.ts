import { createHash } from 'node:crypto'
import type { RedisConnection } from '../redis/connection.ts'
import { KeystoneConfigurationError, KeystoneUnavailableError, type KeystoneSession } from './keystone-session.ts'

/** What Keystone vouched for: who holds the token, in which project, with which roles, until when. */
export interface ValidatedToken {
  userId: string
  userName: string
  /** The project the token is scoped to; null for a domain- or system-scoped token. */
  projectId: string | null
  projectName: string | null
  roles: string[]
  expiresAt: string
}

export type TokenCheck = { valid: true; token: ValidatedToken } | { valid: false }

interface KeystoneTokenBody {
  token: {
    expires_at: string
    user: { id: string; name: string }
    project?: { id: string; name: string }
    roles?: { name: string }[]
  }
}

/**
 * Validates user and service tokens as keystonemiddleware's auth_token does: `GET /v3/auth/tokens`
 * with the conductor's own token in X-Auth-Token and the caller's in X-Subject-Token. The answer,
 * valid or not, is kept in Redis (shared by every conductor process of the prefix) until the token
 * expires or for at most `cacheSeconds`, so a revoked token is refused again within that bound.
 */
export class KeystoneTokenValidator {
  /** Validations sent to Keystone since start (the cache's misses): the figure docs/openstack.md reports. */
  keystoneCalls = 0

  constructor(
    private readonly session: KeystoneSession,
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly cacheSeconds: number,
  ) {}

  /**
   * `allowExpired`: as keystonemiddleware after a valid service token, a user token that expired
   * during a long operation (Nova's server build) still passes; a revoked one does not.
   */
  async validate(subjectToken: string, { allowExpired = false } = {}): Promise<TokenCheck> {
    const key = `${this.prefix}:keystone-tokens:${createHash('sha256').update(subjectToken).digest('hex')}${allowExpired ? ':expired-ok' : ''}`
    const cached = await this.redis.get(key)
    if (cached !== null) return JSON.parse(cached) as TokenCheck
    const check = await this.ask(subjectToken, allowExpired)
    const untilExpiry = check.valid && !allowExpired ? Math.floor((Date.parse(check.token.expiresAt) - Date.now()) / 1000) : this.cacheSeconds
    const ttl = Math.min(this.cacheSeconds, untilExpiry)
    if (ttl > 0) await this.redis.set(key, JSON.stringify(check), 'EX', ttl)
    return check
  }

  private async ask(subjectToken: string, allowExpired: boolean, retried = false): Promise<TokenCheck> {
    this.keystoneCalls += 1
    const response = await this.session.request(`/auth/tokens${allowExpired ? '?allow_expired=1' : ''}`, {
      headers: { 'x-auth-token': await this.session.token(), 'x-subject-token': subjectToken },
    })
    if (response.status === 404) {
      await response.body?.cancel()
      return { valid: false }
    }
    if (response.status === 401 && !retried) {
      // The conductor's own token was revoked or expired early: log in again, once.
      await response.body?.cancel()
      this.session.invalidate()
      return this.ask(subjectToken, allowExpired, true)
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel()
      throw new KeystoneConfigurationError(
        `Keystone answered ${response.status} when the conductor validated a token: its service user needs the service or admin role (KEYSTONE_USERNAME)`,
      )
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new KeystoneUnavailableError(`Keystone answered ${response.status} to a token validation`)
    }
    const { token } = (await response.json()) as KeystoneTokenBody
    return {
      valid: true,
      token: {
        userId: token.user.id,
        userName: token.user.name,
        projectId: token.project?.id ?? null,
        projectName: token.project?.name ?? null,
        roles: (token.roles ?? []).map((role) => role.name),
        expiresAt: token.expires_at,
      },
    }
  }
}
