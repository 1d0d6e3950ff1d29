import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SCRIPTS = new URL('../openstack/', import.meta.url)

/** What keystone-up bootstraps: an admin user in the admin project (test/openstack/keystone-up). */
export const KEYSTONE_ADMIN = { username: 'admin', password: 'secret', project: 'admin', domain: 'Default' } as const

export interface OpenStackServer {
  /** Keystone: its identity URL (`http://127.0.0.1:PORT/v3`); Placement: its base URL. */
  url: string
  dir: string
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); its state in `dir` stays for a restart. */
  stop(): Promise<void>
  /** Starts it again on the same port and state, as after a restart of a real service. */
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  remove(): Promise<void>
}

async function script(name: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  // The server's own output goes to DIR/log, so the pipes close when the script ends (see the script).
  const { stdout } = await run(new URL(name, SCRIPTS).pathname, args, {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, ...env },
  })
  return stdout.trim()
}

async function startServer(kind: 'keystone' | 'placement', env: Record<string, string>): Promise<OpenStackServer> {
  const dir = await mkdtemp(join(tmpdir(), `cyborg-${kind}-`))
  const url = await script(`${kind}-up`, [dir, '0'], env)
  const port = new URL(url).port
  return {
    url,
    dir,
    stop: async () => void (await script('down', [dir])),
    restart: async () => void (await script(`${kind}-up`, [dir, port], env)),
    remove: async () => {
      await script('down', [dir])
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A real Keystone (Debian's python3-keystone, sqlite) on a free loopback port, bootstrapped with
 * KEYSTONE_ADMIN. Installs the package on first use (as root). `tokenExpirationS`: how long its tokens
 * live (Keystone's [token] expiration, 3600 by default).
 */
export function startKeystone(options: { tokenExpirationS?: number } = {}): Promise<OpenStackServer> {
  return startServer('keystone', options.tokenExpirationS === undefined ? {} : { KEYSTONE_TOKEN_EXPIRATION: String(options.tokenExpirationS) })
}

/**
 * A real Placement (Debian's python3-placement, sqlite) on a free loopback port: noauth2 (send
 * `X-Auth-Token: admin`) by default, or validating Keystone tokens when `keystoneUrl` is given.
 */
export function startPlacement(options: { keystoneUrl?: string } = {}): Promise<OpenStackServer> {
  const env: Record<string, string> = options.keystoneUrl ? { PLACEMENT_AUTH: 'keystone', KEYSTONE_URL: options.keystoneUrl } : { PLACEMENT_AUTH: 'noauth2' }
  return startServer('placement', env)
}

/** A project-scoped token from a password login, as a client gets one. */
export async function passwordToken(
  keystoneUrl: string,
  user: { username: string; password: string; project: string; domain?: string } = KEYSTONE_ADMIN,
): Promise<string> {
  const domain = { name: user.domain ?? 'Default' }
  const response = await fetch(`${keystoneUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user.username, domain, password: user.password } } },
        scope: { project: { name: user.project, domain } },
      },
    }),
  })
  if (response.status !== 201) throw new Error(`Keystone password login answered ${response.status}: ${await response.text()}`)
  return response.headers.get('x-subject-token')!
}
