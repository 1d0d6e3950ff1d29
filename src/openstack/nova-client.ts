import type { KeystoneSession } from './keystone-session.ts'

/** Nova's microversion that knows `accelerator-request-bound` (cyborg/common/nova_client.py). */
export const NOVA_MICROVERSION = '2.82'

/** One `os-server-external-events` event, as Cyborg sends it. */
export interface BindEvent {
  name: 'accelerator-request-bound'
  server_uuid: string
  /** The ARQ's uuid. */
  tag: string
  status: 'completed' | 'failed'
}

/** Nova answered in a way a retry cannot change (400, 403, 404, an unexpected per-event code). */
export class NovaRejectedError extends Error {
  override name = 'NovaRejectedError'
}

/** Nova did not answer, or answered with a fault a later try may not meet (5xx, 401 with a stale token). */
export class NovaUnavailableError extends Error {
  override name = 'NovaUnavailableError'
}

/**
 * Nova's external events API with the conductor's service token, as cyborg/common/nova_client.py:
 * 200, or 207 where every event is 422 (the instance has no host yet: Nova's bug 1855752), is done.
 */
export class NovaClient {
  constructor(
    private readonly session: KeystoneSession,
    /** NOVA_URL, or undefined for the catalog's `compute` endpoint. */
    private readonly url: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** Sends the events; resolves with a note of what Nova said, rejects with NovaRejectedError or NovaUnavailableError. */
  async sendEvents(events: BindEvent[]): Promise<string> {
    const base = (this.url ?? (await this.session.endpoint('compute'))).replace(/\/+$/, '')
    let response: Response
    try {
      response = await fetch(`${base}/os-server-external-events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-auth-token': await this.session.token(),
          'openstack-api-version': `compute ${NOVA_MICROVERSION}`,
          'x-openstack-nova-api-version': NOVA_MICROVERSION,
        },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      throw new NovaUnavailableError(
        `Nova at ${base} did not answer: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`,
      )
    }
    const text = await response.text()
    if (response.status === 200) return 'Nova took every event (200)'
    if (response.status === 207) {
      const codes = new Set(((JSON.parse(text) as { events?: { code: number }[] }).events ?? []).map((event) => event.code))
      if (codes.size === 1 && codes.has(422)) return 'Nova answered 422 for every event: the instance has no host yet (ignored, as Cyborg does)'
      throw new NovaRejectedError(`Nova answered 207 with event codes ${[...codes].join(', ')}: ${text.slice(0, 500)}`)
    }
    if (response.status === 401) {
      // The service token expired or was revoked: the next try logs in again.
      this.session.invalidate()
      throw new NovaUnavailableError('Nova refused the service token (401); logging in again')
    }
    if (response.status >= 500 || response.status === 429) throw new NovaUnavailableError(`Nova answered ${response.status}: ${text.slice(0, 500)}`)
    throw new NovaRejectedError(`Nova answered ${response.status}: ${text.slice(0, 500)}`)
  }
}
