import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { notAcceptable } from '../http-error.ts'

/** Cyborg's microversions (cyborg/api/controllers/v2/versions.py). */
export const MIN_MINOR = 0
export const MAX_MINOR = 3
/** 2.1: project_id in an ARQ patch. */
export const MINOR_PROJECT_ID = 1
/** 2.2: a device profile got by name as well as by uuid. */
export const MINOR_DEVICE_PROFILE_BY_NAME = 2
/** 2.3: devices show their status. */
export const MINOR_DEVICE_STATUS = 3

const VERSION_HEADER = 'openstack-api-version'
const RANGE = `[2.${MIN_MINOR}, 2.${MAX_MINOR}]`

declare module 'fastify' {
  interface FastifyRequest {
    /** The requested microversion's minor number: `OpenStack-API-Version: accelerator 2.<minor>`, 0 without one. */
    apiMinor: number
  }
}

/**
 * Reads `OpenStack-API-Version` as Cyborg does: `accelerator 2.x`, a bare `2.x`, or `latest`; absent
 * means 2.0. Every answer carries the supported range; a version outside it gets 406.
 */
export default fp(async function microversion(app: FastifyInstance) {
  app.decorateRequest('apiMinor', MIN_MINOR)
  app.addHook('onRequest', async (request, reply) => {
    reply.headers({
      'OpenStack-API-Minimum-Version': `2.${MIN_MINOR}`,
      'OpenStack-API-Maximum-Version': `2.${MAX_MINOR}`,
      Vary: 'OpenStack-API-Version',
    })
    const minor = parseMicroversion(request.headers[VERSION_HEADER])
    reply.header('OpenStack-API-Version', `accelerator 2.${minor}`)
    request.apiMinor = minor
  })
})

/** The minor number an `OpenStack-API-Version` header asks for; a header outside the range throws a 406. */
export function parseMicroversion(header: string | string[] | undefined): number {
  if (header === undefined) return MIN_MINOR
  const words = String(header).trim().split(/\s+/)
  const version = words.length === 2 && words[0]!.toLowerCase() === 'accelerator' ? words[1]! : words.length === 1 ? words[0]! : ''
  if (version.toLowerCase() === 'latest') return MAX_MINOR
  const match = /^(\d+)\.(\d+)$/.exec(version)
  if (!match)
    throw notAcceptable(
      `Invalid value for OpenStack-API-Version header: ${JSON.stringify(String(header))}; send "accelerator 2.<minor>" within ${RANGE}, or "accelerator latest"`,
    )
  const [major, minor] = [Number(match[1]), Number(match[2])]
  if (major !== 2)
    throw notAcceptable(`Version ${version} was requested but this service supports major version 2 only. The supported version range is: ${RANGE}.`)
  if (minor < MIN_MINOR || minor > MAX_MINOR)
    throw notAcceptable(`Version ${version} was requested but the minor version is not supported by this service. The supported version range is: ${RANGE}.`)
  return minor
}

/** Refuses a feature newer than the request's microversion, as Cyborg does: 406. */
export function requireMinor(actual: number, needed: number, what: string): void {
  if (actual < needed)
    throw notAcceptable(`Request not acceptable: ${what} needs API version 2.${needed} or later (send "OpenStack-API-Version: accelerator 2.${needed}")`)
}
