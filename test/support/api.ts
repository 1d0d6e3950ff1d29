import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import { buildApi } from '../../src/conductor.ts'
import type { Role } from '../../src/auth/access.ts'
import { startHarness, type Harness, type Settings } from './harness.ts'

export type TokenName = 'admin' | 'serviceA' | 'serviceB' | 'readerA' | 'readerB' | 'agent' | 'agentA' | 'operator'

/**
 * Fresh tokens for one test: an admin, an operator, an agent of any host (unbound), an agent bound to
 * host A, and a service and a reader token in each of projects A and B.
 */
export function testTokens(prefix: string) {
  const projects = { A: `${prefix}-project-a`, B: `${prefix}-project-b` }
  const hosts = { A: `${prefix}-host-a` }
  const secret = () => randomBytes(24).toString('hex')
  const tokens: Record<TokenName, { token: string; role: Role; project: string | null; host?: string }> = {
    admin: { token: secret(), role: 'admin', project: null },
    serviceA: { token: secret(), role: 'service', project: projects.A },
    serviceB: { token: secret(), role: 'service', project: projects.B },
    readerA: { token: secret(), role: 'reader', project: projects.A },
    readerB: { token: secret(), role: 'reader', project: projects.B },
    agent: { token: secret(), role: 'agent', project: null },
    agentA: { token: secret(), role: 'agent', project: null, host: hosts.A },
    operator: { token: secret(), role: 'operator', project: null },
  }
  const setting = Object.values(tokens)
    .map(({ token, role, project, host }) => [token, role, project ?? host].filter((part) => part != null).join(':'))
    .join(',')
  return { projects, hosts, tokens, setting }
}

export interface StartedApi {
  harness: Harness
  app: FastifyInstance
  tokens: ReturnType<typeof testTokens>
  /** The Authorization header of one of the test's tokens. */
  as: (name: TokenName) => Record<string, string>
}

/** A conductor on the real services and the HTTP API in front of it, driven with app.inject. */
export async function startApi(settings: Settings = {}): Promise<StartedApi> {
  const harnessPrefix = `t-${randomBytes(5).toString('hex')}`
  const tokens = testTokens(harnessPrefix)
  const harness = await startHarness({ CONDUCTOR_PREFIX: harnessPrefix, API_TOKENS: tokens.setting, ...settings })
  const app = await buildApi({ config: harness.config, connection: harness.redis, log: harness.log })
  const as = (name: TokenName) => ({ authorization: `Bearer ${tokens.tokens[name].token}` })
  return { harness, app, tokens, as }
}

/** Starts an API per test, and closes it and the harness after each test of the calling file. */
export function useApi(): (settings?: Settings) => Promise<StartedApi> {
  let current: StartedApi | undefined
  afterEach(async () => {
    await current?.app.close()
    await current?.harness.close()
    current = undefined
  })
  return async (settings = {}) => (current = await startApi(settings))
}

/** The message of an error answer in Cyborg's envelope: `{"error_message": "{\"faultstring\": ...}"}`. */
export function fault(response: { json(): unknown }): string {
  return faultOf(response.json())
}

/** The same, from a body already parsed (fetch's `await response.json()`). */
export function faultOf(parsed: unknown): string {
  const body = parsed as { error_message?: unknown }
  if (typeof body.error_message !== 'string') throw new Error(`not Cyborg's error envelope: ${JSON.stringify(body)}`)
  return (JSON.parse(body.error_message) as { faultstring: string }).faultstring
}
