import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

// PostgreSQL hangs a little longer than the API waits, and far less than a statement may take: the create times out (504) and commits later.
const HANG_MS = 3000
const READ_TIMEOUT_MS = 1000

test('a create that timed out (504) during a PostgreSQL hang and committed later, retried with the same Idempotency-Key or X-OpenStack-Request-ID, returns the first object, never a second', async () => {
  rig = await startRig({ READ_TIMEOUT_MS: String(READ_TIMEOUT_MS) }, { hangable: true })
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...rig!.adminHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  /** The request, sent while PostgreSQL hangs: it answers 504; PostgreSQL comes back afterwards. */
  const duringHang = async (send: () => Promise<{ status: number }>) => {
    rig!.postgresProxy!.hang()
    const answer = await send()
    // The fault lasts its length whatever the request did; not synchronisation.
    await delay(Math.max(0, HANG_MS - READ_TIMEOUT_MS))
    rig!.postgresProxy!.resume()
    return answer
  }

  const name = `${rig.prefix}-fpga`
  const profileBody = [{ name, groups: [{ 'resources:FPGA': '1' }] }]
  const profileKey = { 'idempotency-key': `${rig.prefix}-create-profile` }
  expect((await duringHang(() => call('POST', '/v2/device_profiles', profileBody, profileKey))).status).toBe(504)
  const listProfiles = async () =>
    ((await call('GET', '/v2/device_profiles')).body.device_profiles as { name: string; uuid: string }[]).filter((p) => p.name === name)
  const [committed] = await waitFor(async () => ((await listProfiles()).length > 0 ? listProfiles() : undefined), 'the timed-out create to commit', 30_000)
  const retried = await call('POST', '/v2/device_profiles', profileBody, profileKey)
  expect(retried).toMatchObject({ status: 201, body: { uuid: committed!.uuid, name } })
  expect(await listProfiles()).toHaveLength(1)

  const arqBody = { device_profile_name: name }
  const requestId = { 'x-openstack-request-id': `req-${crypto.randomUUID()}` }
  const listArqs = async () =>
    ((await call('GET', '/v2/accelerator_requests')).body.arqs as { uuid: string; device_profile_name: string }[]).filter(
      (arq) => arq.device_profile_name === name,
    )
  expect((await duringHang(() => call('POST', '/v2/accelerator_requests', arqBody, requestId))).status).toBe(504)
  const first = await waitFor(
    async () => {
      const arqs = await listArqs()
      return arqs.length > 0 ? arqs : undefined
    },
    'the timed-out ARQ create to commit',
    30_000,
  )
  const again = await call('POST', '/v2/accelerator_requests', arqBody, requestId)
  expect(again.status).toBe(201)
  expect((again.body.arqs as { uuid: string }[]).map((arq) => arq.uuid).sort()).toEqual(first.map((arq) => arq.uuid).sort())
  expect(await listArqs()).toHaveLength(first.length)
  // Without a key, a create is a create: a second set of ARQs.
  expect((await call('POST', '/v2/accelerator_requests', arqBody)).status).toBe(201)
  expect(await listArqs()).toHaveLength(2 * first.length)
})
