import { randomUUID } from 'node:crypto'
import { expect, test } from 'vitest'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { testAgent } from '../support/agents.ts'
import { fault, useApi } from '../support/api.ts'

// The rest of Cyborg's api-ref and Nova's item URLs, with the static API_TOKENS of a stand-alone conductor.

const startApi = useApi()

async function started() {
  const api = await startApi()
  const { harness, app, as } = api
  const hostname = harness.key('compute')
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname }).agent.reportInventory())
  const device = (await app.inject({ url: `/v2/devices?hostname=${hostname}`, headers: as('admin') })).json().devices[0]
  const deployable = (await app.inject({ url: '/v2/deployables', headers: as('admin') }))
    .json()
    .deployables.find((row: { name: string }) => row.name === `${hostname}_FakeDevice`)
  const profile = await app.inject({
    method: 'POST',
    url: '/v2/device_profiles',
    headers: as('admin'),
    payload: [{ name: harness.key('fpga'), groups: [{ 'resources:FPGA': 1 }] }],
  })
  expect(profile.statusCode).toBe(201)
  const newArq = async () =>
    (
      await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.json().name } })
    ).json().arqs[0]
  const bindOps = (instance = randomUUID()) => [
    { op: 'add', path: '/hostname', value: 'node-1.example.org' },
    { op: 'add', path: '/device_rp_uuid', value: resourceProviderUuid(`${hostname}_FakeDevice`) },
    { op: 'add', path: '/instance_uuid', value: instance },
  ]
  return { ...api, hostname, device, deployable, newArq, bindOps }
}

test('GET / is the version document; unknown routes and every error are in Cyborg envelope', async () => {
  const { app } = await startApi()
  const root = await app.inject({ url: '/' })
  expect(root.statusCode).toBe(200)
  const v2 = { id: 'v2', status: 'CURRENT', min_version: '2.0', max_version: '2.3', links: [{ href: 'http://localhost:80/v2', rel: 'self' }] }
  expect(root.json()).toEqual({
    name: 'OpenStack Cyborg API',
    description: expect.stringMatching(/^Cyborg is the OpenStack project/),
    versions: [v2],
    default_version: v2,
  })
  const unknown = await app.inject({ url: '/v2/nothing-here' })
  expect(unknown.statusCode).toBe(404)
  expect(unknown.json()).toEqual({
    error_message: JSON.stringify({ faultcode: 'Client', faultstring: 'The resource could not be found: no route GET /v2/nothing-here', debuginfo: null }),
  })
})

test('device profiles: a number becomes a string and the spaces in a key go, as Cyborg does; other values are still refused', async () => {
  const { app, as, harness } = await startApi()
  const post = (groups: unknown) =>
    app.inject({ method: 'POST', url: '/v2/device_profiles', headers: as('admin'), payload: [{ name: harness.key(randomUUID().slice(0, 8)), groups }] })
  const created = await post([{ 'resources: FPGA': 2, 'trait: CUSTOM_FAKE_DEVICE ': 'required', 'accel:bitstream_id': 'abc' }])
  expect(created.statusCode).toBe(201)
  expect(created.json().groups).toEqual([{ 'resources:FPGA': '2', 'trait:CUSTOM_FAKE_DEVICE': 'required', 'accel:bitstream_id': 'abc' }])
  expect(fault(await post([{ 'resources:FPGA': 1.5 }]))).toMatch(/^body is invalid: 0\.groups\.0\.resources:FPGA: /)
  expect(fault(await post([{ 'resources:FPGA': 0 }]))).toBe('body is invalid: 0.groups.0.resources:FPGA: must be a count from 1 to 9999, got "0"')
})

test('ARQ item URLs: PATCH /v2/accelerator_requests/{uuid} binds and unbinds as openstacksdk sends it; DELETE answers 404 once gone', async () => {
  const { app, as, newArq, bindOps } = await started()
  const arq = await newArq()
  const item = `/v2/accelerator_requests/${arq.uuid}`
  const other = randomUUID()
  expect(fault(await app.inject({ method: 'PATCH', url: item, headers: as('serviceA'), payload: { [other]: bindOps() } }))).toBe(
    `the patch of /v2/accelerator_requests/${arq.uuid} must be {"${arq.uuid}": [operations]}`,
  )
  expect((await app.inject({ method: 'PATCH', url: item, headers: as('serviceA'), payload: { [arq.uuid]: bindOps() } })).statusCode).toBe(202)
  expect((await app.inject({ url: item, headers: as('serviceA') })).json()).toMatchObject({ state: 'Bound', hostname: 'node-1.example.org' })
  // The bare list of operations (RFC 6902) works too.
  const unbind = ['/hostname', '/device_rp_uuid', '/instance_uuid'].map((path) => ({ op: 'remove', path }))
  expect((await app.inject({ method: 'PATCH', url: item, headers: as('serviceA'), payload: unbind })).statusCode).toBe(202)
  expect((await app.inject({ url: item, headers: as('serviceA') })).json()).toMatchObject({ state: 'Unbound', hostname: null })
  expect((await app.inject({ method: 'DELETE', url: item, headers: as('serviceB') })).statusCode).toBe(404)
  expect((await app.inject({ method: 'DELETE', url: item, headers: as('serviceA') })).statusCode).toBe(204)
  const again = await app.inject({ method: 'DELETE', url: item, headers: as('serviceA') })
  expect(again.statusCode).toBe(404)
  expect(fault(again)).toBe(`no accelerator request ${arq.uuid}`)
})

test('device disable and enable (admin only): a maintaining device is not bound, and the ARQ says why', async () => {
  const { app, as, device, newArq, bindOps, hostname } = await started()
  const at23 = { ...as('admin'), 'openstack-api-version': 'accelerator 2.3' }
  expect((await app.inject({ method: 'POST', url: `/v2/devices/${device.uuid}/disable`, headers: as('serviceA') })).statusCode).toBe(403)
  const disabled = await app.inject({ method: 'POST', url: `/v2/devices/${device.uuid}/disable`, headers: as('admin') })
  expect(disabled.statusCode).toBe(200)
  expect(disabled.body).toBe('')
  expect((await app.inject({ url: `/v2/devices/${device.uuid}`, headers: at23 })).json().status).toBe('maintaining')

  const refused = await newArq()
  expect(
    (await app.inject({ method: 'PATCH', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { [refused.uuid]: bindOps() } })).statusCode,
  ).toBe(202)
  const failed = (await app.inject({ url: `/v2/accelerator_requests/${refused.uuid}`, headers: as('serviceA') })).json()
  expect(failed.state).toBe('BindFailed')
  expect(failed.bind_failure_reason).toMatch(
    new RegExp(`^the device of deployable ${hostname}_FakeDevice \\(resource provider [0-9a-f-]+\\) on host ${hostname} is disabled \\(maintaining\\)$`),
  )

  expect((await app.inject({ method: 'POST', url: `/v2/devices/${device.uuid}/enable`, headers: as('admin') })).statusCode).toBe(200)
  expect((await app.inject({ url: `/v2/devices/${device.uuid}`, headers: at23 })).json().status).toBe('enabled')
  const bound = await newArq()
  expect(
    (await app.inject({ method: 'PATCH', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { [bound.uuid]: bindOps() } })).statusCode,
  ).toBe(202)
  expect((await app.inject({ url: `/v2/accelerator_requests/${bound.uuid}`, headers: as('serviceA') })).json()).toMatchObject({
    state: 'Bound',
    bind_failure_reason: null,
  })

  const unknown = randomUUID()
  const missing = await app.inject({ method: 'POST', url: `/v2/devices/${unknown}/enable`, headers: as('admin') })
  expect(missing.statusCode).toBe(404)
  expect(fault(missing)).toBe(`no device ${unknown}`)
})

test('attributes: an admin creates and deletes one; duplicates 409, unknown deployables and attributes 404', async () => {
  const { app, as, deployable, harness } = await started()
  const id = (await harness.prisma.deployable.findUniqueOrThrow({ where: { uuid: deployable.uuid } })).id
  const create = (payload: unknown, token: 'admin' | 'serviceA' = 'admin') =>
    app.inject({ method: 'POST', url: '/v2/attributes', headers: as(token), payload: payload as object })
  expect((await create({ deployable_id: id, key: 'owner', value: 'ops' }, 'serviceA')).statusCode).toBe(403)
  const created = await create({ deployable_id: id, key: 'owner', value: 'ops' })
  expect(created.statusCode).toBe(201)
  expect(created.json()).toMatchObject({ deployable_id: id, key: 'owner', value: 'ops', links: [{ rel: 'self' }] })
  expect((await app.inject({ url: `/v2/attributes/${created.json().uuid}`, headers: as('admin') })).json().value).toBe('ops')
  const duplicate = await create({ deployable_id: id, key: 'owner', value: 'other' })
  expect(duplicate.statusCode).toBe(409)
  expect(fault(duplicate)).toBe(`deployable ${id} already has an attribute "owner"`)
  expect(fault(await create({ deployable_id: 2_000_000_000, key: 'owner', value: 'x' }))).toBe('no deployable with id 2000000000')
  expect((await app.inject({ method: 'DELETE', url: `/v2/attributes/${created.json().uuid}`, headers: as('admin') })).statusCode).toBe(204)
  expect((await app.inject({ method: 'DELETE', url: `/v2/attributes/${created.json().uuid}`, headers: as('admin') })).statusCode).toBe(404)
})

test('deployable program: answered as Cyborg answers for a driver that cannot program', async () => {
  const { app, as, deployable } = await started()
  const program = (uuid: string, payload: unknown, token: 'admin' | 'serviceA' = 'admin') =>
    app.inject({ method: 'PATCH', url: `/v2/deployables/${uuid}/program`, headers: as(token), payload: payload as object })
  const body = [{ op: 'replace', path: '/bitstream_id', value: [{ image_uuid: randomUUID() }] }]
  expect((await program(deployable.uuid, body, 'serviceA')).statusCode).toBe(403)
  const answer = await program(deployable.uuid, body)
  expect(answer.statusCode).toBe(500)
  expect(JSON.parse(answer.json().error_message)).toEqual({
    faultcode: 'Server',
    faultstring: `FPGA programming failed with return False. (driver ${deployable.driver_name} of deployable ${deployable.uuid} cannot program a bitstream)`,
    debuginfo: null,
  })
  expect((await program(deployable.uuid, [{ op: 'replace', path: '/bitstream_id', value: [{ image_uuid: 'nope' }] }])).statusCode).toBe(400)
  expect((await program(randomUUID(), body)).statusCode).toBe(404)
})
