import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { fault, startApi, type StartedApi } from '../support/api.ts'
import { testAgent } from '../support/agents.ts'
import { KeystoneAdmin, type KeystoneUser } from '../support/keystone-admin.ts'
import { NovaReceiver } from '../support/nova-receiver.ts'
import { cloudEnvironment, DEBIAN_PYTHON, openstack, runClient } from '../support/openstack-cli.ts'
import { passwordToken, startKeystone, type OpenStackServer } from '../support/openstack.ts'
import { waitFor } from '../support/wait-for.ts'

// The OpenStack community's own clients, unmodified (Debian's python3-openstackclient,
// python3-cyborgclient, python3-openstacksdk, python3-keystoneauth1), against a listening conductor
// found through a real Keystone's catalog.

let keystone: OpenStackServer
let admin: KeystoneAdmin
let nova: NovaReceiver
let api: StartedApi
let conductorUrl: string
let member: KeystoneUser
let novaUser: KeystoneUser
let hostname: string
let rpUuid: string

beforeAll(async () => {
  keystone = await startKeystone()
  admin = await KeystoneAdmin.connect(keystone.url)
  const conductorUser = await admin.user('service', ['service'])
  novaUser = await admin.user('service', ['service'])
  member = await admin.user(`p-${randomUUID().slice(0, 8)}`, ['member'])
  nova = await NovaReceiver.start((token) => admin.vouchesFor(token))
  api = await startApi({
    KEYSTONE_URL: keystone.url,
    KEYSTONE_USERNAME: conductorUser.username,
    KEYSTONE_PASSWORD: conductorUser.password,
    KEYSTONE_PROJECT_NAME: 'service',
    NOVA_URL: nova.url,
  })
  await api.app.listen({ host: '127.0.0.1', port: 0 })
  conductorUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`
  // As Cyborg's devstack plugin registers it: the v2 endpoint of service type "accelerator".
  await admin.registerService('accelerator', `${conductorUrl}/v2`)
  hostname = api.harness.key('compute')
  await api.harness.outcome(api.harness.inventoryQueue, await testAgent(api.harness, { hostname }).agent.reportInventory())
  rpUuid = resourceProviderUuid(`${hostname}_FakeDevice`)
}, 600_000)
afterAll(async () => {
  await api?.app.close()
  await api?.harness.close()
  await nova?.close()
  await keystone?.remove()
})

const python = async (script: string, env: Record<string, string>) => {
  const outcome = await runClient(DEBIAN_PYTHON, ['-I', new URL(`../openstack/${script}`, import.meta.url).pathname], env)
  expect(outcome.stderr).not.toMatch(/Traceback/)
  expect(outcome.code).toBe(0)
  return JSON.parse(outcome.stdout)
}

test('the openstack accelerator CLI: devices, deployables, device profiles, and an ARQ from create to delete', async () => {
  const asAdmin = cloudEnvironment(keystone.url)
  const asMember = cloudEnvironment(keystone.url, member)
  const json = async (env: Record<string, string>, ...args: string[]) => {
    const outcome = await openstack(env, 'accelerator', ...args, '-f', 'json')
    expect(outcome.stderr).toBe('')
    expect(outcome.code).toBe(0)
    return outcome.json as Record<string, unknown> & Record<string, unknown>[]
  }

  const devices = await json(asAdmin, 'device', 'list')
  const device = devices.find((row) => row.hostname === hostname)!
  expect(device).toMatchObject({ type: 'FPGA', vendor: '0xABCD', hostname })
  expect(await json(asAdmin, 'device', 'show', String(device.uuid))).toMatchObject({ uuid: device.uuid, type: 'FPGA', hostname })
  const deployable = (await json(asAdmin, 'deployable', 'list')).find((row) => row.name === `${hostname}_FakeDevice`)!
  expect(deployable).toBeDefined()
  expect(await json(asAdmin, 'deployable', 'show', String(deployable.uuid))).toMatchObject({ uuid: deployable.uuid, name: `${hostname}_FakeDevice` })

  // cyborgclient's own help writes the count as a number; Cyborg coerces it and strips the spaces.
  const name = api.harness.key('cli-fpga')
  const profile = await json(asAdmin, 'device', 'profile', 'create', name, '[{"resources:FPGA": 1, "trait: CUSTOM_FAKE_DEVICE": "required"}]')
  expect(profile).toMatchObject({ name, groups: [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }] })
  expect((await json(asMember, 'device', 'profile', 'list')).map((row) => row.name)).toContain(name)
  expect(await json(asMember, 'device', 'profile', 'show', String(profile.uuid))).toMatchObject({ uuid: profile.uuid, name })
  const notAdmin = await openstack(asMember, 'accelerator', 'device', 'profile', 'create', `${name}-2`, '[{"resources:FPGA": "1"}]')
  expect(notAdmin.code).not.toBe(0)
  expect(notAdmin.stderr).toMatch(/needs the device-profile.write permission/)

  const arq = await json(asMember, 'arq', 'create', name)
  expect(arq).toMatchObject({ state: 'Initial', device_profile_name: name, hostname: null, instance_uuid: null })
  const arqUuid = String(arq.uuid)
  expect((await json(asMember, 'arq', 'list')).map((row) => row.uuid)).toContain(arqUuid)
  expect(await json(asMember, 'arq', 'show', arqUuid)).toMatchObject({ uuid: arqUuid, state: 'Initial' })

  const instance = randomUUID()
  const bound = await json(asMember, 'arq', 'bind', arqUuid, 'compute-7.example.org', instance, rpUuid, member.projectId)
  expect(bound).toMatchObject({
    uuid: arqUuid,
    state: 'Bound',
    hostname: 'compute-7.example.org',
    device_rp_uuid: rpUuid,
    instance_uuid: instance,
    attach_handle_type: 'TEST_PCI',
  })
  await waitFor(() => nova.events.find((event) => event.tag === arqUuid), 'the bind event at Nova')
  expect(nova.events.filter((event) => event.tag === arqUuid)).toEqual([
    { name: 'accelerator-request-bound', server_uuid: instance, tag: arqUuid, status: 'completed' },
  ])
  expect(await json(asMember, 'arq', 'unbind', arqUuid)).toMatchObject({ uuid: arqUuid, state: 'Unbound', hostname: null, instance_uuid: null })

  const deleted = await openstack(asMember, 'accelerator', 'arq', 'delete', arqUuid)
  expect(deleted).toMatchObject({ code: 0, stderr: '' })
  expect(await api.harness.prisma.extArq.count({ where: { uuid: arqUuid } })).toBe(0)
  const gone = await openstack(asMember, 'accelerator', 'arq', 'show', arqUuid)
  expect(gone.code).not.toBe(0)
  expect(gone.stderr).toMatch(/not found/i)

  expect(await openstack(asAdmin, 'accelerator', 'device', 'profile', 'delete', String(profile.uuid))).toMatchObject({ code: 0, stderr: '' })
  const profileGone = await openstack(asAdmin, 'accelerator', 'device', 'profile', 'show', String(profile.uuid))
  expect(profileGone.code).not.toBe(0)
  expect(profileGone.stderr).toMatch(/not found/)
}, 600_000)

test('an openstacksdk script: every accelerator proxy call of the life cycle', async () => {
  const name = api.harness.key('sdk-fpga')
  const { instance, steps } = await python('sdk-calls.py', {
    ...cloudEnvironment(keystone.url),
    DEVICE_PROFILE: name,
    DEVICE_RP_UUID: rpUuid,
    NODENAME: 'compute-8',
  })
  const byName: Record<string, { ok: boolean; value?: ReturnType<typeof JSON.parse>; status?: number; message?: string }> = Object.fromEntries(
    steps.map((entry: { step: string }) => [entry.step, entry]),
  )
  const failedSteps = steps.filter((entry: { ok: boolean }) => !entry.ok).map((entry: { step: string }) => entry.step)
  expect(failedSteps).toEqual(['get_accelerator_request (deleted)', 'delete_accelerator_request (again)', 'get_device_profile (deleted)'])
  expect(byName.devices!.value.map((device: { hostname: string }) => device.hostname)).toContain(hostname)
  expect(byName.get_device!.value).toMatchObject({ type: 'FPGA' })
  expect(byName.deployables!.value.map((deployable: { name: string }) => deployable.name)).toContain(`${hostname}_FakeDevice`)
  expect(byName.get_deployable!.value).toMatchObject({ num_accelerators: expect.any(Number) })
  const profile = byName.create_device_profile!.value
  expect(profile).toMatchObject({ name, groups: [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }] })
  expect(byName.device_profiles!.value).toContain(name)
  expect(byName.get_device_profile!.value).toMatchObject({ id: profile.id, name })
  const arq = byName.create_accelerator_request!.value
  expect(arq).toMatchObject({ state: 'Initial', device_profile_name: name })
  expect(byName.accelerator_requests!.value).toContain(arq.id)
  expect(byName['update_accelerator_request (bind)']!.value).toBe(true)
  expect(byName['get_accelerator_request (bound)']!.value).toMatchObject({
    state: 'Bound',
    hostname: 'compute-8',
    device_rp_uuid: rpUuid,
    instance_uuid: instance,
    attach_handle_type: 'TEST_PCI',
  })
  expect(byName['get_accelerator_request (unbound)']!.value).toMatchObject({ state: 'Unbound', hostname: null, instance_uuid: null })
  // The SDK reads the message out of Cyborg's error envelope; ignore_missing=False sees the 404 of an item DELETE.
  expect(byName['get_accelerator_request (deleted)']).toMatchObject({ status: 404, message: expect.stringContaining(`no accelerator request ${arq.id}`) })
  expect(byName['delete_accelerator_request (again)']).toMatchObject({ status: 404, message: expect.stringContaining(`no accelerator request ${arq.id}`) })
  expect(byName['get_device_profile (deleted)']).toMatchObject({ status: 404 })
  expect(await api.harness.prisma.extArq.count({ where: { uuid: arq.id } })).toBe(0)
  expect(await api.harness.prisma.deviceProfile.count({ where: { name } })).toBe(0)
}, 300_000)

test("Nova's call sequence (nova/accelerator/cyborg.py) through a keystoneauth1 Session and Adapter with a service token", async () => {
  const name = api.harness.key('nova-fpga')
  const profile = await api.app.inject({
    method: 'POST',
    url: '/v2/device_profiles',
    headers: { 'x-auth-token': await passwordToken(keystone.url) },
    payload: [{ name, groups: [{ 'resources:FPGA': '1' }] }],
  })
  expect(profile.statusCode).toBe(201)
  const result = await python('nova-calls.py', {
    ...cloudEnvironment(keystone.url),
    USER_NAME: member.username,
    USER_PASSWORD: member.password,
    USER_PROJECT: member.project,
    NOVA_NAME: novaUser.username,
    NOVA_PASSWORD: novaUser.password,
    DEVICE_PROFILE: name,
    DEVICE_RP_UUID: rpUuid,
    NODENAME: 'compute-9.example.org',
  })
  const { instance, resolved, calls } = result
  expect(calls.map((entry: { call: string; status: number }) => `${entry.call}: ${entry.status}`)).toEqual([
    'get_device_profile_groups: 200',
    'create_arqs: 201',
    'bind_arqs: 202',
    'get_arqs_for_instance: 200',
    'get_arq_by_uuid: 200',
    'delete_arqs_for_instance: 204',
    'get_arqs_for_instance (after delete): 200',
    'create_arqs (spare): 201',
    'delete_arqs_by_uuid: 204',
    // Nova's docstring: "the 2nd and later calls will throw errors" (and Nova ignores them).
    'delete_arqs_by_uuid (again): 404',
  ])
  const body = (call: string) => calls.find((entry: { call: string }) => entry.call === call).body
  expect(body('get_device_profile_groups').device_profiles.map((dp: { groups: unknown }) => dp.groups)).toEqual([[{ 'resources:FPGA': '1' }]])
  const [arq] = body('create_arqs').arqs
  expect(arq).toMatchObject({ state: 'Initial', device_profile_name: name, project_id: member.projectId })
  expect(resolved).toEqual([
    expect.objectContaining({ uuid: arq.uuid, state: 'Bound', hostname: 'compute-9.example.org', device_rp_uuid: rpUuid, instance_uuid: instance }),
  ])
  expect(body('get_arq_by_uuid')).toMatchObject({
    uuid: arq.uuid,
    state: 'Bound',
    attach_handle_type: 'TEST_PCI',
    attach_handle_info: expect.objectContaining({ bus: expect.any(String) }),
  })
  expect(body('get_arqs_for_instance (after delete)')).toEqual({ arqs: [] })
  expect(fault({ json: () => body('delete_arqs_by_uuid (again)') })).toMatch(/^no accelerator request /)
  await waitFor(() => nova.events.find((event) => event.server_uuid === instance), 'the bind event at Nova')
  expect(nova.events.filter((event) => event.server_uuid === instance)).toEqual([
    { name: 'accelerator-request-bound', server_uuid: instance, tag: arq.uuid, status: 'completed' },
  ])
}, 300_000)
