import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi } from '../../src/conductor.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { fault, useApi, type StartedApi } from '../support/api.ts'
import { testAgent } from '../support/agents.ts'
import { KeystoneAdmin, type KeystoneUser } from '../support/keystone-admin.ts'
import { NovaReceiver } from '../support/nova-receiver.ts'
import { startKeystone, type OpenStackServer } from '../support/openstack.ts'
import { waitFor } from '../support/wait-for.ts'

let keystone: OpenStackServer
let admin: KeystoneAdmin
let nova: NovaReceiver
const users = {} as Record<'conductor' | 'nova' | 'alice' | 'carol' | 'bob', KeystoneUser>
const tag = randomUUID().slice(0, 8)

beforeAll(async () => {
  keystone = await startKeystone()
  admin = await KeystoneAdmin.connect(keystone.url)
  users.conductor = await admin.user('service', ['service'])
  users.nova = await admin.user('service', ['service'])
  users.alice = await admin.user(`a-${tag}`, ['member'])
  users.carol = await admin.user(`a-${tag}`, ['reader'])
  users.bob = await admin.user(`b-${tag}`, ['member'])
  nova = await NovaReceiver.start((token) => admin.vouchesFor(token))
}, 600_000)
afterAll(async () => {
  await nova?.close()
  await keystone?.remove()
})

const startApi = useApi()
let api: StartedApi
const start = async (settings: Record<string, string> = {}) =>
  (api = await startApi({
    KEYSTONE_URL: keystone.url,
    KEYSTONE_USERNAME: users.conductor.username,
    KEYSTONE_PASSWORD: users.conductor.password,
    KEYSTONE_PROJECT_NAME: 'service',
    KEYSTONE_TOKEN_CACHE_S: '2',
    NOVA_URL: nova.url,
    NOVA_EVENT_BACKOFF_MS: '100',
    RATE_LIMIT_MAX: '100000',
    ...settings,
  }))

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string | undefined, payload?: unknown, headers: Record<string, string> = {}) =>
  api.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : { 'x-auth-token': token }), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  })

/** Token validations Keystone served so far: its access log's `GET /v3/auth/tokens` lines. */
async function keystoneValidations(): Promise<number> {
  const log = await readFile(`${keystone.dir}/log`, 'utf8')
  return log.match(/"GET \/v3\/auth\/tokens(\?allow_expired=1)? HTTP/g)?.length ?? 0
}

/** A dummy-driver host (one FPGA deployable) and an admin's profile of one FPGA. */
async function hostAndProfile(adminToken: string) {
  const { harness } = api
  const hostname = harness.key('compute')
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname }).agent.reportInventory())
  const profile = await call('POST', '/v2/device_profiles', adminToken, [
    { name: harness.key('fpga'), groups: [{ 'resources:FPGA': 1, 'trait: CUSTOM_FAKE_DEVICE': 'required' }] },
  ])
  expect(profile.statusCode).toBe(201)
  return { hostname, profile: profile.json(), rpUuid: resourceProviderUuid(`${hostname}_FakeDevice`) }
}

test('a password login reaches the API; roles and projects follow Cyborg policy; another project sees nothing', async () => {
  await start()
  const [adminToken, alice, carol, bob] = await Promise.all([passwordOfAdmin(), admin.login(users.alice), admin.login(users.carol), admin.login(users.bob)])
  const { profile } = await hostAndProfile(adminToken)
  // Cyborg coerces a number and strips the spaces of a key.
  expect(profile.groups).toEqual([{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }])

  expect((await call('GET', `/v2/device_profiles/${profile.uuid}`, alice)).statusCode).toBe(200)
  const refusedProfile = await call('POST', '/v2/device_profiles', alice, [{ name: api.harness.key('mine'), groups: [{ 'resources:FPGA': '1' }] }])
  expect(refusedProfile.statusCode).toBe(403)
  expect(fault(refusedProfile)).toMatch(/needs the device-profile.write permission/)

  const created = await call('POST', '/v2/accelerator_requests', alice, { device_profile_name: profile.name })
  expect(created.statusCode).toBe(201)
  const [arq] = created.json().arqs
  expect(arq.project_id).toBe(users.alice.projectId)

  // The reader of the same project sees it and may not create; admin sees it.
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, carol)).json().uuid).toBe(arq.uuid)
  expect((await call('POST', '/v2/accelerator_requests', carol, { device_profile_name: profile.name })).statusCode).toBe(403)
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, adminToken)).statusCode).toBe(200)

  // Project B: nothing of project A, not even by uuid.
  expect((await call('GET', '/v2/accelerator_requests', bob)).json().arqs.map((other: { uuid: string }) => other.uuid)).not.toContain(arq.uuid)
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, bob)).statusCode).toBe(404)
  expect((await call('DELETE', `/v2/accelerator_requests/${arq.uuid}`, bob)).statusCode).toBe(404)
  expect((await call('DELETE', `/v2/accelerator_requests?arqs=${arq.uuid}`, bob)).statusCode).toBe(404)
  const patchOps = [
    { op: 'add', path: '/hostname', value: 'x' },
    { op: 'add', path: '/device_rp_uuid', value: randomUUID() },
    { op: 'add', path: '/instance_uuid', value: randomUUID() },
  ]
  expect((await call('PATCH', `/v2/accelerator_requests/${arq.uuid}`, bob, { [arq.uuid]: patchOps })).statusCode).toBe(404)
  expect((await call('GET', `/v2/accelerator_requests/${arq.uuid}`, alice)).json().state).toBe('Initial')
})

test('bogus, revoked and wrongly scoped tokens are refused; a revoked one within KEYSTONE_TOKEN_CACHE_S', async () => {
  await start()
  const bogus = await call('GET', '/v2/device_profiles', 'gAAAAABnot-a-token-at-all')
  expect(bogus.statusCode).toBe(401)
  expect(fault(bogus)).toBe('the token is not valid: it is not one of API_TOKENS and Keystone does not know it')
  expect((await call('GET', '/v2/device_profiles', undefined)).statusCode).toBe(401)

  const token = await admin.login(users.alice)
  expect((await call('GET', '/v2/device_profiles', token)).statusCode).toBe(200)
  await admin.revoke(token)
  const revokedAt = Date.now()
  // Refused again once the cached answer (2 s here) runs out, never later.
  await waitFor(async () => (await call('GET', '/v2/device_profiles', token)).statusCode === 401, 'the revoked token to be refused', 10_000)
  expect(Date.now() - revokedAt).toBeLessThan(2000 + 3000)

  // A token whose roles map onto none of Cyborg's.
  const nobody = await admin.user(`a-${tag}`, [`role-${tag}`])
  const refused = await call('GET', '/v2/device_profiles', await admin.login(nobody))
  expect(refused.statusCode).toBe(403)
  expect(fault(refused)).toMatch(/carries none of the roles admin, member, service, reader/)
})

test("Nova's way: a user token with Nova's service token binds by device_rp_uuid and nodename; each outcome reaches Nova", async () => {
  await start()
  const adminToken = await passwordOfAdmin()
  const { profile, rpUuid } = await hostAndProfile(adminToken)
  const [alice, novaToken] = await Promise.all([admin.login(users.alice), admin.login(users.nova)])
  const asNova = { 'x-service-token': novaToken }
  const arqOf = async () => (await call('POST', '/v2/accelerator_requests', alice, { device_profile_name: profile.name }, asNova)).json().arqs[0]

  const bound = await arqOf()
  const instance = randomUUID()
  const bind = (hostname: string, rp: string, server: string) => [
    { path: '/hostname', op: 'add', value: hostname },
    { path: '/device_rp_uuid', op: 'add', value: rp },
    { path: '/instance_uuid', op: 'add', value: server },
  ]
  // Nova's nodename is not the agent's hostname: the resource provider decides.
  const patched = await call('PATCH', '/v2/accelerator_requests', alice, { [bound.uuid]: bind('compute-1.example.org', rpUuid, instance) }, asNova)
  expect(patched.statusCode).toBe(202)
  expect((await call('GET', `/v2/accelerator_requests/${bound.uuid}`, alice, undefined, asNova)).json()).toMatchObject({
    state: 'Bound',
    hostname: 'compute-1.example.org',
    device_rp_uuid: rpUuid,
    instance_uuid: instance,
    attach_handle_type: 'TEST_PCI',
    bind_failure_reason: null,
  })
  await waitFor(() => nova.events.find((event) => event.tag === bound.uuid), 'the bind event at Nova')
  expect(nova.events.filter((event) => event.tag === bound.uuid)).toEqual([
    { name: 'accelerator-request-bound', server_uuid: instance, tag: bound.uuid, status: 'completed' },
  ])

  // A bind that cannot succeed ends BindFailed, says why, and Nova hears "failed".
  const failing = await arqOf()
  const otherInstance = randomUUID()
  const nowhere = randomUUID()
  expect(
    (await call('PATCH', `/v2/accelerator_requests/${failing.uuid}`, alice, { [failing.uuid]: bind('compute-2', nowhere, otherInstance) }, asNova)).statusCode,
  ).toBe(202)
  const failed = (await call('GET', `/v2/accelerator_requests/${failing.uuid}`, alice)).json()
  expect(failed.state).toBe('BindFailed')
  expect(failed.bind_failure_reason).toBe(`no deployable has resource provider ${nowhere}: no agent reported it, or it left the inventory`)
  await waitFor(() => nova.events.find((event) => event.tag === failing.uuid), 'the failed bind event at Nova')
  expect(nova.events.filter((event) => event.tag === failing.uuid)).toEqual([
    { name: 'accelerator-request-bound', server_uuid: otherInstance, tag: failing.uuid, status: 'failed' },
  ])
  // Every request Nova got carried a token Keystone vouches for and passed Nova's schema.
  expect(nova.refused).toEqual([])

  // The service token must be valid and a service's.
  expect((await call('GET', '/v2/accelerator_requests', alice, undefined, { 'x-service-token': 'gAAAAAbogus' })).statusCode).toBe(401)
  const notAService = await call('GET', '/v2/accelerator_requests', alice, undefined, { 'x-service-token': alice })
  expect(notAService.statusCode).toBe(401)
  expect(fault(notAService)).toBe('the X-Service-Token lacks the service role')
})

test('Nova down: binds are not held up, and their events are retried until Nova takes them', async () => {
  await start()
  const { profile, rpUuid } = await hostAndProfile(await passwordOfAdmin())
  const alice = await admin.login(users.alice)
  const [first, second] = await Promise.all(
    [0, 1].map(async () => (await call('POST', '/v2/accelerator_requests', alice, { device_profile_name: profile.name })).json().arqs[0]),
  )
  const instance = randomUUID()
  const ops = (server: string) => [
    { path: '/hostname', op: 'add', value: 'compute-3' },
    { path: '/device_rp_uuid', op: 'add', value: rpUuid },
    { path: '/instance_uuid', op: 'add', value: server },
  ]
  nova.refuse = true
  const refusedBefore = nova.refused.length
  try {
    expect((await call('PATCH', '/v2/accelerator_requests', alice, { [first.uuid]: ops(instance), [second.uuid]: ops(instance) })).statusCode).toBe(202)
    expect(
      (await call('GET', `/v2/accelerator_requests?instance=${instance}&bind_state=resolved`, alice)).json().arqs.map((arq: { state: string }) => arq.state),
    ).toEqual(['Bound', 'Bound'])
    await waitFor(() => nova.refused.length >= refusedBefore + 2, 'Nova to refuse the events twice')
  } finally {
    nova.refuse = false
  }
  const request = await waitFor(() => nova.requests.find((received) => received.events.some((event) => event.server_uuid === instance)), 'the retried events')
  // One request per instance, as Cyborg batches them.
  expect(request.events.map((event) => [event.tag, event.status]).sort()).toEqual(
    [
      [first.uuid, 'completed'],
      [second.uuid, 'completed'],
    ].sort(),
  )
  expect(nova.requests.filter((received) => received.events.some((event) => event.server_uuid === instance))).toHaveLength(1)
})

test('token cache: a warm cache sends no validation to Keystone, shared by every conductor process of the prefix', async () => {
  await start({ KEYSTONE_TOKEN_CACHE_S: '300' })
  const alice = await admin.login(users.alice)
  const before = await keystoneValidations()
  expect((await call('GET', '/v2/device_profiles', alice)).statusCode).toBe(200)
  expect(await keystoneValidations()).toBe(before + 1)
  for (let request = 0; request < 1000; request++) expect((await call('GET', '/v2/accelerator_requests', alice)).statusCode).toBe(200)
  expect(await keystoneValidations()).toBe(before + 1)

  // A second API process on the same Redis and prefix finds the token validated already.
  const other = await buildApi({ config: api.harness.config, connection: api.harness.redis, log: api.harness.log })
  try {
    expect((await other.inject({ url: '/v2/accelerator_requests', headers: { 'x-auth-token': alice } })).statusCode).toBe(200)
  } finally {
    await other.close()
  }
  expect(await keystoneValidations()).toBe(before + 1)
})

test('Keystone stopped: a token not yet validated gets 503, never 500 or a pass; after a restart it works again', async () => {
  await start()
  const fresh = await admin.login(users.alice)
  await keystone.stop()
  try {
    const down = await call('GET', '/v2/device_profiles', fresh)
    expect(down.statusCode).toBe(503)
    expect(down.headers['retry-after']).toBe('5')
    expect(fault(down)).toMatch(/^the token cannot be validated now: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 did not answer/)
    expect((await call('GET', '/v2/device_profiles', 'gAAAAAunknown')).statusCode).toBe(503)
  } finally {
    await keystone.restart()
  }
  expect((await call('GET', '/v2/device_profiles', fresh)).statusCode).toBe(200)
}, 120_000)

test('Keystone hung (accepts, never answers): 503 after KEYSTONE_TIMEOUT_MS, never a wait without end', async () => {
  const sockets = new Set<Socket>()
  const hung = createServer((socket) => void sockets.add(socket))
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
  try {
    await start({ KEYSTONE_URL: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v3`, KEYSTONE_TIMEOUT_MS: '300' })
    const began = Date.now()
    const answer = await call('GET', '/v2/device_profiles', 'gAAAAAany-token')
    expect(answer.statusCode).toBe(503)
    expect(fault(answer)).toMatch(/did not answer: .*(timeout|aborted)/i)
    expect(Date.now() - began).toBeLessThan(5000)
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => hung.close(resolve))
  }
})

/** The bootstrap admin's token (admin role in project admin: every project, as Cyborg's admin_api). */
function passwordOfAdmin(): Promise<string> {
  return admin.login({ username: 'admin', password: 'secret', project: 'admin', userId: '', projectId: '' })
}
