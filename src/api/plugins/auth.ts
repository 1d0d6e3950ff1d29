import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { may, projectScope, tokenId, type ApiToken, type Caller, type Permission } from '../access.ts'
import { forbidden, unauthorized } from '../http-error.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's holder, or null when the request carries none. */
    caller: Caller | null
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
export const REDACTED_LOG_PATHS = ['req.headers.authorization', 'req.headers["x-auth-token"]', 'req.headers.cookie', 'res.headers["set-cookie"]']

export interface AuthOptions {
  tokens: ApiToken[]
}

/**
 * Bearer tokens from API_TOKENS (`Authorization: Bearer <token>`, or OpenStack's `X-Auth-Token`). A
 * token that is presented must be valid; routes then ask for a permission in `config.permission`.
 */
export default fp(async function auth(app: FastifyInstance, options: AuthOptions) {
  const callers = new Map<string, Caller>(options.tokens.map(({ token, role, project }) => [tokenId(token), { id: tokenId(token), role, project }]))
  if (callers.size === 0) app.log.warn('API_TOKENS is empty: every endpoint that needs a token answers 401')

  app.decorate('callerById', (id: string) => callers.get(id))
  app.decorate('authorize', (request: FastifyRequest, permission: Permission) => {
    if (!request.caller) throw unauthorized('this endpoint needs a token: send "Authorization: Bearer <token>" (see API_TOKENS)')
    if (!may(request.caller, permission)) throw forbidden(`a ${request.caller.role} token may not do this (it needs the ${permission} permission)`)
  })
  app.decorateRequest('caller', null)

  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request)
    if (token !== undefined) {
      const caller = callers.get(tokenId(token))
      if (!caller) throw unauthorized('the token is not valid: it is not one of API_TOKENS')
      request.caller = caller
    }
    const permission = request.routeOptions.config.permission
    if (permission) app.authorize(request, permission)
  })
})

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
