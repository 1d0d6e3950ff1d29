import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { KEYSTONE_ADMIN } from './openstack.ts'

const run = promisify(execFile)

/** Debian's Python (python3 on PATH may be another one that cannot see Debian's OpenStack packages). */
export const DEBIAN_PYTHON = '/usr/bin/python3'

export interface CloudUser {
  username: string
  password: string
  project: string
}

/** The OS_* environment of a user of the cloud at `keystoneUrl`, as an openrc file gives it. */
export function cloudEnvironment(keystoneUrl: string, user: CloudUser = KEYSTONE_ADMIN): Record<string, string> {
  const env: Record<string, string> = {}
  // Nothing of the caller's cloud or proxy settings leaks into the client.
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^OS_|_proxy$|_PROXY$|^PYTHON/.test(name)) env[name] = value
  }
  return {
    ...env,
    OS_AUTH_URL: keystoneUrl,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: user.username,
    OS_PASSWORD: user.password,
    OS_PROJECT_NAME: user.project,
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'public',
  }
}

export interface CommandOutcome {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command of Debian's OpenStack clients; never throws on a non-zero exit (the test asserts it). */
export async function runClient(file: string, args: string[], env: Record<string, string>, input?: string): Promise<CommandOutcome> {
  try {
    const child = run(file, args, { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })
    if (input !== undefined) {
      child.child.stdin?.end(input)
    }
    const { stdout, stderr } = await child
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) }
  }
}

/** `openstack <args> -f json` as a user of the cloud: its parsed output, or the failure. */
export async function openstack(env: Record<string, string>, ...args: string[]): Promise<CommandOutcome & { json?: unknown }> {
  const outcome = await runClient('/usr/bin/openstack', [...args], env)
  if (outcome.code === 0 && args.includes('json') && outcome.stdout.trim() !== '') return { ...outcome, json: JSON.parse(outcome.stdout) }
  return outcome
}
