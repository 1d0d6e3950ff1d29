import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { aRole, keystoneRole, may, projectScope, tokenId, type ApiToken, type Caller, type Permission } from '../../auth/access.ts'
import { KeystoneConfigurationError, KeystoneUnavailableError } from '../../openstack/keystone-session.ts'
import type { KeystoneTokenValidator } from '../../openstack/keystone-tokens.ts'
import { forbidden, HttpError, unauthorized } from '../http-error.ts'
import { commandCallerRoles, type CommandCaller } from '../../queues/contract/commands.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's holder, or null when the request carries none (or one that is not valid). */
    caller: Caller | null
    /** Why the token the request carries is refused; routes that need a caller answer it, open routes ignore it. */
    tokenProblem: HttpError | null
  }
  interface FastifyContextConfig {
    /** What the route asks of its caller; a route without one is open to anyone. */
    permission?: Permission
  }
  interface FastifyInstance {
    /** The caller of a token id (tokenId), or undefined for a token not configured. */
    callerById(id: string): Caller | undefined
    /** Refuses the request unless its caller holds `permission`: 401 without a caller, 403 without the grant. */
    authorize(request: FastifyRequest, permission: Permission): void
  }
}

/** Header and cookie values the logs must never hold. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-service-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

export interface AuthOptions {
  tokens: ApiToken[]
  /** With KEYSTONE_URL: tokens that are not API_TOKENS are Keystone tokens, validated there. */
  keystone?: KeystoneTokenValidator
}

/**
 * Bearer tokens from API_TOKENS (`Authorization: Bearer <token>`, or OpenStack's `X-Auth-Token`).
 * The token is looked up `onRequest`, without refusing anything yet, so that the rate limits (a
 * route's own onRequest hook, after this one) count every request, one with a bad token included.
 * `preParsing`, before the body is read, a route that asks for a permission in `config.permission`
 * refuses a bad token or a caller without the grant; an open route (health, readiness, metrics, the
 * version documents) ignores a bad token, as keystonemiddleware's delay_auth_decision does.
 */
export default fp(async function auth(app: FastifyInstance, options: AuthOptions) {
  const callers = new Map<string, Caller>(options.tokens.map(({ token, role, project, host }) => [tokenId(token), { id: tokenId(token), role, project, host }]))
  if (callers.size === 0) app.log.warn('API_TOKENS is empty: every endpoint that needs a token answers 401')
  const unbound = options.tokens.filter((token) => token.role === 'agent' && token.host === null).length
  if (unbound > 0) app.log.warn(`${unbound} agent token(s) of API_TOKENS name no host and may report for any host: bind each with token:agent:<host>`)

  app.decorate('callerById', (id: string) => callers.get(id))
  app.decorate('authorize', (request: FastifyRequest, permission: Permission) => {
    if (!request.caller) throw request.tokenProblem ?? unauthorized('this endpoint needs a token: send "Authorization: Bearer <token>" (see API_TOKENS)')
    if (!may(request.caller, permission)) throw forbidden(`${aRole(request.caller.role)} token may not do this (it needs the ${permission} permission)`)
  })
  app.decorateRequest('caller', null)
  app.decorateRequest('tokenProblem', null)

  const keystone = options.keystone
  app.addHook('onRequest', async (request) => {
    try {
      const token = bearerToken(request)
      if (token === undefined) return
      const caller = callers.get(tokenId(token)) ?? (keystone && (await keystoneCaller(keystone, token, request)))
      if (!caller) throw unauthorized(`the token is not valid: it is not one of API_TOKENS${keystone ? ' and Keystone does not know it' : ''}`)
      request.caller = caller
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      request.tokenProblem = error
    }
  })
  app.addHook('preParsing', async (request) => {
    const permission = request.routeOptions.config.permission
    if (permission) app.authorize(request, permission)
  })
})

/**
 * The caller of a Keystone token, as keystonemiddleware and Cyborg's policy see it. An X-Service-Token
 * (Nova's) must be valid and carry the service or admin role; with it, the user's token may have
 * expired during the operation. Keystone down or misconfigured: 503, never a pass.
 */
async function keystoneCaller(keystone: KeystoneTokenValidator, token: string, request: FastifyRequest): Promise<Caller | undefined> {
  try {
    const serviceToken = request.headers['x-service-token']
    let allowExpired = false
    if (typeof serviceToken === 'string') {
      const service = await keystone.validate(serviceToken)
      if (!service.valid) throw unauthorized('the X-Service-Token is not valid')
      if (!service.token.roles.some((role) => role === 'service' || role === 'admin')) {
        throw unauthorized('the X-Service-Token lacks the service role')
      }
      allowExpired = true
    }
    const check = await keystone.validate(token, { allowExpired })
    if (!check.valid) return undefined
    const role = keystoneRole(check.token.roles)
    if (!role) throw forbidden(`the token carries none of the roles admin, member, service, reader (it has: ${check.token.roles.join(', ') || 'none'})`)
    if (role !== 'admin' && check.token.projectId === null) throw forbidden('a non-admin token must be scoped to a project')
    return { id: `keystone:${check.token.userId}`, role, project: role === 'admin' ? null : check.token.projectId, host: null }
  } catch (error) {
    if (error instanceof KeystoneUnavailableError || error instanceof KeystoneConfigurationError) {
      request.log.error({ err: error }, 'cannot validate a Keystone token')
      throw new HttpError(503, 'Service Unavailable', `the token cannot be validated now: ${error.message}`, { 'retry-after': '5' })
    }
    throw error
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"')
    return match[1]
  }
  const openstack = request.headers['x-auth-token']
  return typeof openstack === 'string' ? openstack : undefined
}

/** The `project_id` of the caller's commands; a route that asks for a permission always has a caller. */
export function scopeOf(request: FastifyRequest): string | undefined {
  return projectScope(request.caller!)
}

/** What the caller's commands carry: its `project_id` (none for admin), and the `caller` the worker holds them to. */
export interface Acting {
  project_id: string | undefined
  caller: CommandCaller
}

export function actingAs(request: FastifyRequest): Acting {
  const { role } = request.caller!
  const project_id = scopeOf(request)
  // Only the roles the contract knows reach commands: a route's permission keeps agents and operators out.
  if (!commandCallerRoles.includes(role as CommandCaller['role'])) throw forbidden(`${aRole(role)} token runs no commands`)
  return { project_id, caller: { role: role as CommandCaller['role'], ...(project_id !== undefined && { project_id }) } }
}
