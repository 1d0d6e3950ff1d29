import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { expect, test } from 'vitest'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { fault, useApi, type StartedApi, type TokenName } from '../support/api.ts'
import { testAgent } from '../support/agents.ts'
import type { Harness } from '../support/harness.ts'

let harness: Harness
let app: FastifyInstance
let as: StartedApi['as']
const startApi = useApi()
const start = async (settings = {}) => ({ harness, app, as } = await startApi(settings))

const V22 = { 'openstack-api-version': 'accelerator 2.2' }

/** A host of the dummy driver (one FPGA deployable, 16 handles) and an admin's public profile. */
async function hostAndProfile(groups: Record<string, string>[] = [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }]) {
  const hostname = harness.key('compute')
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname }).agent.reportInventory())
  const created = await app.inject({
    method: 'POST',
    url: '/v2/device_profiles',
    headers: as('admin'),
    payload: [{ name: harness.key('fpga'), groups, description: 'one fake FPGA' }],
  })
  expect(created.statusCode).toBe(201)
  return { hostname, profile: created.json(), rpUuid: resourceProviderUuid(`${hostname}_FakeDevice`) }
}

test('device profiles: POST a list of one → 201, GET by uuid and (2.2) by name, list with ?name=, DELETE → 204', async () => {
  await start()
  const { profile } = await hostAndProfile()
  expect(profile).toEqual({
    uuid: expect.any(String),
    name: harness.key('fpga'),
    description: 'one fake FPGA',
    groups: [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }],
    created_at: expect.any(String),
    updated_at: expect.any(String),
    links: [{ href: `http://localhost:80/v2/device_profiles/${profile.uuid}`, rel: 'self' }],
  })

  const byUuid = await app.inject({ url: `/v2/device_profiles/${profile.uuid}`, headers: as('readerA') })
  expect(byUuid.statusCode).toBe(200)
  expect(byUuid.json()).toEqual({ device_profile: profile })
  const byName = await app.inject({ url: `/v2/device_profiles/${profile.name}`, headers: { ...as('readerA'), ...V22 } })
  expect(byName.json()).toEqual({ device_profile: profile })

  const listed = await app.inject({ url: `/v2/device_profiles?name=${profile.name},${harness.key('other')}`, headers: as('readerA') })
  expect(listed.json()).toEqual({ device_profiles: [profile] })

  expect((await app.inject({ method: 'DELETE', url: `/v2/device_profiles/${profile.uuid}`, headers: as('admin') })).statusCode).toBe(204)
  const gone = await app.inject({ url: `/v2/device_profiles/${profile.uuid}`, headers: as('readerA') })
  expect(gone.statusCode).toBe(404)
  expect(fault(gone)).toEqual(`no device profile "${profile.uuid}"`)
})

test('device profiles: a duplicate name is 409, a profile in use is 409, bad bodies are 400, DELETE ?value= by names', async () => {
  await start()
  const { profile } = await hostAndProfile()
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v2/device_profiles', headers: as('admin'), payload: payload as object })

  const duplicate = await post([{ name: profile.name, groups: [{ 'resources:FPGA': '1' }] }])
  expect(duplicate.statusCode).toBe(409)
  expect(fault(duplicate)).toBe(`a device profile named "${profile.name}" already exists`)

  expect(fault(await post([]))).toEqual('body is invalid: (body): give exactly one device profile per request, as a list: [{"name": ..., "groups": [...]}]')
  expect((await post({ name: 'x', groups: [] })).statusCode).toBe(400)
  const badGroup = await post([{ name: harness.key('bad'), groups: [{ 'resources:FPGA': 'two' }] }])
  expect(fault(badGroup)).toEqual('body is invalid: 0.groups.0.resources:FPGA: must be a count from 1 to 9999, got "two"')

  const arqs = await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('admin'), payload: { device_profile_name: profile.name } })
  expect(arqs.statusCode).toBe(201)
  const inUse = await app.inject({ method: 'DELETE', url: `/v2/device_profiles?value=${profile.name}`, headers: as('admin') })
  expect(inUse.statusCode).toBe(409)
  expect(fault(inUse)).toMatch(/is used by 1 accelerator request\(s\); delete them first$/)

  const spare = await post([{ name: harness.key('spare'), groups: [{ 'resources:GPU': '1' }] }])
  expect((await app.inject({ method: 'DELETE', url: `/v2/device_profiles?value=${spare.json().name}`, headers: as('admin') })).statusCode).toBe(204)
  expect((await app.inject({ method: 'DELETE', url: `/v2/device_profiles?value=${harness.key('never')}`, headers: as('admin') })).statusCode).toBe(404)
})

test('microversions: min and max headers on every answer, 406 out of range, by-name needs 2.2, device status from 2.3', async () => {
  await start()
  const { profile } = await hostAndProfile()
  const plain = await app.inject({ url: '/v2/device_profiles', headers: as('readerA') })
  expect(plain.headers).toMatchObject({
    'openstack-api-minimum-version': '2.0',
    'openstack-api-maximum-version': '2.3',
    'openstack-api-version': 'accelerator 2.0',
    vary: 'OpenStack-API-Version',
  })
  const latest = await app.inject({ url: '/v2/device_profiles', headers: { ...as('readerA'), 'openstack-api-version': 'accelerator latest' } })
  expect(latest.headers['openstack-api-version']).toBe('accelerator 2.3')

  for (const [header, message] of [
    ['accelerator 2.9', 'Version 2.9 was requested but the minor version is not supported by this service. The supported version range is: [2.0, 2.3].'],
    ['accelerator 3.0', 'Version 3.0 was requested but this service supports major version 2 only. The supported version range is: [2.0, 2.3].'],
    [
      'accelerator two',
      'Invalid value for OpenStack-API-Version header: "accelerator two"; send "accelerator 2.<minor>" within [2.0, 2.3], or "accelerator latest"',
    ],
  ]) {
    const refused = await app.inject({ url: '/v2/device_profiles', headers: { ...as('readerA'), 'openstack-api-version': header! } })
    expect(refused.statusCode).toBe(406)
    expect(fault(refused)).toEqual(message)
    expect(refused.headers['openstack-api-maximum-version']).toBe('2.3')
  }

  const byNameAt20 = await app.inject({ url: `/v2/device_profiles/${profile.name}`, headers: as('readerA') })
  expect(byNameAt20.statusCode).toBe(406)
  expect(fault(byNameAt20)).toBe(
    'Request not acceptable: getting a device profile by name needs API version 2.2 or later (send "OpenStack-API-Version: accelerator 2.2")',
  )

  const hostname = harness.key('compute')
  const at20 = (await app.inject({ url: `/v2/devices?hostname=${hostname}`, headers: as('readerA') })).json().devices
  const at23 = (await app.inject({ url: `/v2/devices?hostname=${hostname}`, headers: { ...as('readerA'), 'openstack-api-version': 'accelerator 2.3' } })).json()
    .devices
  expect(at20[0]).not.toHaveProperty('status')
  expect(at23[0]).toMatchObject({ status: 'enabled' })

  const version = await app.inject({ url: '/v2' })
  expect(version.json()).toEqual({
    id: 'v2.0',
    min_version: '2.0',
    max_version: '2.3',
    status: 'CURRENT',
    links: [{ href: 'http://localhost:80/v2', rel: 'self' }],
  })
})

test('ARQs: create → 201, bind with PATCH → 202, get, list resolved, unbind, delete by uuid → 204', async () => {
  await start()
  const { hostname, profile, rpUuid } = await hostAndProfile([{ 'resources:FPGA': '2' }])
  const created = await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.name } })
  expect(created.statusCode).toBe(201)
  const arqs = created.json().arqs
  expect(arqs).toHaveLength(2)
  expect(arqs[0]).toEqual({
    uuid: expect.any(String),
    state: 'Initial',
    device_profile_name: profile.name,
    device_profile_group_id: 0,
    hostname: null,
    device_rp_uuid: null,
    instance_uuid: null,
    project_id: harness.key('project-a'),
    attach_handle_type: '',
    attach_handle_uuid: null,
    attach_handle_info: {},
    bind_failure_reason: null,
    created_at: expect.any(String),
    updated_at: expect.any(String),
    links: [{ href: `http://localhost:80/v2/accelerator_requests/${arqs[0].uuid}`, rel: 'self' }],
  })

  const instance = randomUUID()
  const bindOps = [
    { op: 'add', path: '/hostname', value: hostname },
    { op: 'add', path: '/device_rp_uuid', value: rpUuid },
    { op: 'add', path: '/instance_uuid', value: instance },
  ]
  const patch = await app.inject({
    method: 'PATCH',
    url: '/v2/accelerator_requests',
    headers: as('serviceA'),
    payload: Object.fromEntries(arqs.map((arq: { uuid: string }) => [arq.uuid, bindOps])),
  })
  expect(patch.statusCode).toBe(202)
  expect(patch.body).toBe('')

  const resolved = await app.inject({ url: `/v2/accelerator_requests?instance=${instance}&bind_state=resolved`, headers: as('serviceA') })
  expect(resolved.statusCode).toBe(200)
  expect(resolved.json().arqs.map((arq: { state: string }) => arq.state)).toEqual(['Bound', 'Bound'])
  const one = await app.inject({ url: `/v2/accelerator_requests/${arqs[0].uuid}`, headers: as('readerA') })
  expect(one.json()).toMatchObject({
    state: 'Bound',
    hostname,
    device_rp_uuid: rpUuid,
    instance_uuid: instance,
    attach_handle_type: 'TEST_PCI',
    attach_handle_uuid: expect.any(String),
  })

  const again = await app.inject({ method: 'PATCH', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { [arqs[0].uuid]: bindOps } })
  expect(again.statusCode).toBe(400)
  expect(fault(again)).toBe(`instance ${instance} already has accelerator requests; it cannot bind more`)

  const unbind = await app.inject({
    method: 'PATCH',
    url: '/v2/accelerator_requests',
    headers: as('serviceA'),
    payload: { [arqs[0].uuid]: [{ op: 'remove', path: '/hostname' }] },
  })
  expect(unbind.statusCode).toBe(202)
  expect((await app.inject({ url: `/v2/accelerator_requests/${arqs[0].uuid}`, headers: as('readerA') })).json()).toMatchObject({
    state: 'Unbound',
    hostname: null,
  })

  const removed = await app.inject({
    method: 'DELETE',
    url: `/v2/accelerator_requests?arqs=${arqs.map((arq: { uuid: string }) => arq.uuid).join(',')}`,
    headers: as('serviceA'),
  })
  expect(removed.statusCode).toBe(204)
  expect((await app.inject({ url: `/v2/accelerator_requests/${arqs[0].uuid}`, headers: as('readerA') })).statusCode).toBe(404)
  expect((await app.inject({ method: 'DELETE', url: `/v2/accelerator_requests?arqs=${arqs[0].uuid}`, headers: as('serviceA') })).statusCode).toBe(404)
})

test('ARQs: ?instance=&bind_state=resolved is 423 while one still binds; DELETE ?instance= is idempotent', async () => {
  await start()
  const { profile } = await hostAndProfile([{ 'resources:FPGA': '2' }])
  const arqs = (
    await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.name } })
  ).json().arqs
  const instance = randomUUID()
  // As a bind in progress leaves them: BindStarted, committed.
  await harness.prisma.extArq.updateMany({
    where: { uuid: { in: arqs.map((arq: { uuid: string }) => arq.uuid) } },
    data: { state: 'BindStarted', instanceUuid: instance },
  })
  const locked = await app.inject({ url: `/v2/accelerator_requests?instance=${instance}&bind_state=resolved`, headers: as('serviceA') })
  expect(locked.statusCode).toBe(423)
  expect(fault(locked)).toEqual(expect.stringMatching(new RegExp(`^2 of 2 ARQ\\(s\\) of instance ${instance} still binding: `)))
  const unfiltered = await app.inject({ url: `/v2/accelerator_requests?instance=${instance}`, headers: as('serviceA') })
  expect(unfiltered.json().arqs).toHaveLength(2)
  const badState = await app.inject({ url: `/v2/accelerator_requests?bind_state=bound`, headers: as('serviceA') })
  expect(fault(badState)).toEqual('querystring is invalid: bind_state: the only bind_state is "resolved", got "bound"')

  for (let i = 0; i < 2; i++) {
    expect((await app.inject({ method: 'DELETE', url: `/v2/accelerator_requests?instance=${instance}`, headers: as('serviceA') })).statusCode).toBe(204)
  }
  expect((await app.inject({ url: `/v2/accelerator_requests?instance=${instance}`, headers: as('serviceA') })).json()).toEqual({ arqs: [] })
})

test('ARQs: malformed patches and deletes are 400, unknown ARQs 404, illegal transitions 409', async () => {
  await start()
  const { hostname, profile, rpUuid } = await hostAndProfile()
  const [arq] = (
    await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.name } })
  ).json().arqs
  const patch = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'PATCH', url: '/v2/accelerator_requests', headers: { ...as('serviceA'), ...headers }, payload: payload as object })

  expect(fault(await patch({ [arq.uuid]: [{ op: 'add', path: '/hostname', value: hostname }] }))).toBe(
    `ARQ ${arq.uuid}: fields absent in patch: /device_rp_uuid, /instance_uuid`,
  )
  expect(
    fault(
      await patch({
        [arq.uuid]: [
          { op: 'add', path: '/hostname', value: hostname },
          { op: 'remove', path: '/instance_uuid' },
        ],
      }),
    ),
  ).toBe('every operation of one request must be "add" (bind) or every one "remove" (unbind)')
  expect((await patch({ [arq.uuid]: [{ op: 'replace', path: '/hostname', value: 'x' }] })).statusCode).toBe(400)
  expect((await patch({ 'not-a-uuid': [{ op: 'remove', path: '/hostname' }] })).statusCode).toBe(400)
  expect((await patch({ [arq.uuid]: [{ op: 'add', path: '/project_id', value: 'p' }] })).statusCode).toBe(406)
  expect((await patch({ [arq.uuid]: [{ op: 'add', path: '/project_id', value: 'p' }] }, { 'openstack-api-version': 'accelerator 2.1' })).statusCode).toBe(403)

  const bind = [
    { op: 'add', path: '/hostname', value: hostname },
    { op: 'add', path: '/device_rp_uuid', value: 'nope' },
    { op: 'add', path: '/instance_uuid', value: randomUUID() },
  ]
  expect(fault(await patch({ [arq.uuid]: bind }))).toEqual('invalid arq.bind: device_rp_uuid: must be a uuid, got "nope"')
  bind[1]!.value = rpUuid
  expect((await patch({ [randomUUID()]: bind })).statusCode).toBe(404)

  const unknown = randomUUID()
  const missing = await app.inject({ url: `/v2/accelerator_requests/${unknown}`, headers: as('serviceA') })
  expect(fault(missing)).toEqual(`no accelerator request ${unknown}`)

  expect((await patch({ [arq.uuid]: bind })).statusCode).toBe(202)
  await harness.prisma.extArq.update({ where: { uuid: arq.uuid }, data: { state: 'Deleting' } })
  const illegal = await patch({ [arq.uuid]: [{ op: 'remove', path: '/hostname' }] })
  expect(illegal.statusCode).toBe(409)
  expect(fault(illegal)).toMatch(/is Deleting; it cannot become Unbound/)

  expect(fault(await app.inject({ method: 'DELETE', url: '/v2/accelerator_requests', headers: as('serviceA') }))).toBe(
    'give either arqs=<uuid>,<uuid>... or instance=<uuid>',
  )
  expect(fault(await app.inject({ method: 'DELETE', url: '/v2/accelerator_requests?arqs=x,y', headers: as('serviceA') }))).toBe(
    'querystring is invalid: arqs.0: must be a uuid, got "x"; arqs.1: must be a uuid, got "y"',
  )
  expect((await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: {} })).statusCode).toBe(400)
  expect(
    (await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: harness.key('none') } }))
      .statusCode,
  ).toBe(404)
})

test("projects: a token of project A never sees, binds or deletes project B's ARQs; admin sees all", async () => {
  await start()
  const { profile } = await hostAndProfile()
  const [arqB] = (
    await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceB'), payload: { device_profile_name: profile.name } })
  ).json().arqs
  const [arqA] = (
    await app.inject({ method: 'POST', url: '/v2/accelerator_requests', headers: as('serviceA'), payload: { device_profile_name: profile.name } })
  ).json().arqs

  for (const name of ['readerA', 'serviceA'] as const) {
    expect((await app.inject({ url: `/v2/accelerator_requests/${arqB.uuid}`, headers: as(name) })).statusCode).toBe(404)
    expect((await app.inject({ url: '/v2/accelerator_requests', headers: as(name) })).json().arqs.map((arq: { uuid: string }) => arq.uuid)).toEqual([arqA.uuid])
  }
  expect((await app.inject({ method: 'DELETE', url: `/v2/accelerator_requests?arqs=${arqB.uuid}`, headers: as('serviceA') })).statusCode).toBe(404)
  expect(
    (
      await app.inject({
        method: 'PATCH',
        url: '/v2/accelerator_requests',
        headers: as('serviceA'),
        payload: { [arqB.uuid]: [{ op: 'remove', path: '/hostname' }] },
      })
    ).statusCode,
  ).toBe(404)
  expect((await app.inject({ url: `/v2/accelerator_requests/${arqB.uuid}`, headers: as('readerB') })).json()).toMatchObject({
    uuid: arqB.uuid,
    state: 'Initial',
  })
  const all = (await app.inject({ url: '/v2/accelerator_requests', headers: as('admin') })).json().arqs.map((arq: { uuid: string }) => arq.uuid)
  expect(all).toEqual(expect.arrayContaining([arqA.uuid, arqB.uuid]))

  // A project's own device profile is invisible to the others; the admin's public one is visible to all.
  const own = await app.inject({
    method: 'POST',
    url: '/v2/device_profiles',
    headers: as('admin'),
    payload: [{ name: harness.key('admin-only'), groups: [{ 'resources:GPU': '1' }] }],
  })
  expect((await app.inject({ url: `/v2/device_profiles/${own.json().uuid}`, headers: as('readerB') })).statusCode).toBe(200)
  await harness.prisma.deviceProfile.update({ where: { uuid: own.json().uuid }, data: { projectId: harness.key('project-a') } })
  await harness.views.drop('device-profile', [own.json().uuid, `name:${own.json().name}`])
  expect((await app.inject({ url: `/v2/device_profiles/${own.json().uuid}`, headers: as('readerB') })).statusCode).toBe(404)
  expect((await app.inject({ url: `/v2/device_profiles/${own.json().uuid}`, headers: as('readerA') })).statusCode).toBe(200)
})

test('auth: no token 401, an unknown token 401, a role without the permission 403; nothing is enqueued', async () => {
  await start()
  const body = { device_profile_name: 'x' }
  const noToken = await app.inject({ method: 'POST', url: '/v2/accelerator_requests', payload: body })
  expect(noToken.statusCode).toBe(401)
  expect(noToken.headers['www-authenticate']).toBe('Bearer realm="cyborg-conductor"')
  expect(fault(noToken)).toEqual('this endpoint needs a token: send "Authorization: Bearer <token>" (see API_TOKENS)')
  const unknown = await app.inject({ method: 'GET', url: '/v2/device_profiles', headers: { authorization: 'Bearer not-a-configured-token' } })
  expect(fault(unknown)).toEqual('the token is not valid: it is not one of API_TOKENS')
  expect((await app.inject({ url: '/v2/device_profiles', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401)

  const cases: [TokenName, string, string, number][] = [
    ['readerA', 'POST', '/v2/accelerator_requests', 403],
    ['agent', 'GET', '/v2/device_profiles', 403],
    ['serviceA', 'POST', '/v2/device_profiles', 403],
    ['serviceA', 'POST', '/conductor/writes', 403],
    ['readerA', 'GET', '/conductor/dead-letters/usage', 403],
    ['agent', 'DELETE', '/v2/accelerator_requests?instance=00000000-0000-4000-8000-000000000000', 403],
  ]
  for (const [name, method, url, status] of cases) {
    const response = await app.inject({ method: method as 'GET', url, headers: as(name), payload: method === 'GET' || method === 'DELETE' ? undefined : {} })
    expect([name, method, url, response.statusCode]).toEqual([name, method, url, status])
  }
  expect((await app.inject({ url: '/v2/device_profiles', headers: { 'x-auth-token': harness.config.API_TOKENS[0]!.token } })).statusCode).toBe(200)
  expect(await harness.commandQueue.count()).toBe(0)
  expect(await harness.writeQueue.count()).toBe(0)
})

test("devices, deployables and attributes list what agents reported, with Cyborg's filters; unknown uuids 404", async () => {
  await start()
  const hostname = harness.key('compute')
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname }).agent.reportInventory())
  const devices = (await app.inject({ url: `/v2/devices?hostname=${hostname}&type=FPGA&vendor=0xABCD`, headers: as('readerA') })).json().devices
  expect(devices).toEqual([
    expect.objectContaining({
      type: 'FPGA',
      vendor: '0xABCD',
      hostname,
      std_board_info: expect.any(String),
      links: [{ href: `http://localhost:80/v2/devices/${devices[0].uuid}`, rel: 'self' }],
    }),
  ])
  expect((await app.inject({ url: `/v2/devices?hostname=${hostname}&type=GPU`, headers: as('readerA') })).json()).toEqual({ devices: [] })
  expect((await app.inject({ url: `/v2/devices?type=TPU`, headers: as('readerA') })).statusCode).toBe(400)
  expect((await app.inject({ url: `/v2/devices/${devices[0].uuid}`, headers: as('readerA') })).json()).toEqual(devices[0])

  const deployables = (await app.inject({ url: '/v2/deployables', headers: as('readerA') })).json().deployables
  const deployable = deployables.find((each: { name: string }) => each.name === `${hostname}_FakeDevice`)
  expect(deployable).toMatchObject({
    num_accelerators: 16,
    driver_name: 'fake',
    rp_uuid: resourceProviderUuid(`${hostname}_FakeDevice`),
    parent_id: null,
    root_id: null,
  })
  expect(JSON.parse(deployable.attributes_list)).toEqual(expect.arrayContaining([{ rc: 'FPGA' }, { traits1: 'CUSTOM_FAKE_DEVICE' }]))
  expect(deployable.links.map((link: { rel: string }) => link.rel)).toEqual(['self', 'bookmark'])
  expect((await app.inject({ url: `/v2/deployables/${deployable.uuid}`, headers: as('readerA') })).json()).toEqual(deployable)

  const { id: deployableId } = await harness.prisma.deployable.findUniqueOrThrow({ where: { uuid: deployable.uuid } })
  const attributes = (await app.inject({ url: `/v2/attributes?deployable_id=${deployableId}&key=rc`, headers: as('readerA') })).json().attributes
  expect(attributes).toEqual([expect.objectContaining({ key: 'rc', value: 'FPGA' })])
  expect((await app.inject({ url: `/v2/attributes/${attributes[0].uuid}`, headers: as('readerA') })).json()).toEqual(attributes[0])

  const unknown = randomUUID()
  for (const collection of ['devices', 'deployables', 'attributes']) {
    expect((await app.inject({ url: `/v2/${collection}/${unknown}`, headers: as('readerA') })).statusCode).toBe(404)
  }
  expect((await app.inject({ url: '/v2/devices/not-a-uuid', headers: as('readerA') })).statusCode).toBe(400)
})
