import { randomUUID } from 'node:crypto'
import { afterEach, expect, test } from 'vitest'
import { CommandError } from '../../src/queues/contract/command-error.ts'
import { arqStates, type ArqState } from '../../src/queues/contract/views.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { ARQ_TRANSITIONS } from '../../src/objects/arq-states.ts'
import { testAgent } from '../support/agents.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness
afterEach(() => harness?.close())

/** A host with the dummy driver's 16 attach handles, and a profile asking for `units` FPGAs per group. */
async function hostAndProfile(groups: Record<string, string>[] = [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }]) {
  harness = await startHarness()
  const hostname = harness.key('compute')
  await harness.outcome(harness.inventoryQueue, await testAgent(harness, { hostname }).agent.reportInventory())
  const profile = await harness.client.command('device-profile.create', { name: harness.key('fpga'), groups, description: 'one fake FPGA' })
  return { hostname, profile, rpUuid: resourceProviderUuid(`${hostname}_FakeDevice`) }
}

/** The caller a producer outside the API names when it acts as an admin (contract version 3). */
const admin = { role: 'admin' }

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the command should have been refused'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(CommandError)
      return error as CommandError
    },
  )

test('device profiles: created with validated groups, read by name or uuid, listed, deleted', async () => {
  const { profile } = await hostAndProfile()
  expect(profile).toMatchObject({
    name: harness.key('fpga'),
    groups: [{ 'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required' }],
    description: 'one fake FPGA',
  })
  expect(await harness.client.command('device-profile.get', { id: profile.name })).toEqual(profile)
  expect(await harness.client.command('device-profile.get', { id: profile.uuid })).toEqual(profile)
  expect(await harness.client.command('device-profile.list', { name: profile.name })).toEqual([profile])

  const duplicate = await refusal(harness.client.command('device-profile.create', { name: profile.name, groups: [{ 'resources:FPGA': '1' }] }))
  expect(duplicate.message).toBe(`conflict: a device profile named "${profile.name}" already exists`)

  expect(await harness.client.command('device-profile.delete', { id: profile.uuid })).toEqual({ deleted: 1 })
  expect((await refusal(harness.client.command('device-profile.get', { id: profile.name }))).code).toBe('not_found')
})

test.each([
  [[{ 'resources:FPGA': 'two' }], 'groups.0.resources:FPGA: must be a count from 1 to 9999, got "two"'],
  [[{ 'trait:CUSTOM_X': 'preferred' }], 'groups.0.trait:CUSTOM_X: must be "required" or "forbidden", got "preferred"'],
  [
    [{ 'trait:HW_CPU_X86_AVX': 'required' }],
    'groups.0.trait:HW_CPU_X86_AVX: unknown group key; expected resources:<RESOURCE_CLASS>, trait:CUSTOM_<TRAIT> or accel:<name>',
  ],
  [[{ colour: 'blue' }], 'groups.0.colour: unknown group key; expected resources:<RESOURCE_CLASS>, trait:CUSTOM_<TRAIT> or accel:<name>'],
  [[], 'groups: at least one group'],
])('a device profile with bad groups is refused: %j', async (groups, problem) => {
  harness = await startHarness({}, { start: false })
  await expect(harness.client.command('device-profile.create', { name: harness.key('bad'), groups })).rejects.toThrow(
    `invalid device-profile.create: ${problem}`,
  )
})

test('a device profile name must match ^[a-zA-Z0-9-_]+$: the command completes with a typed refusal, not a failure', async () => {
  harness = await startHarness()
  const job = await harness.commandQueue.add('device-profile.create', { name: 'has space', groups: [{ 'resources:FPGA': '1' }], caller: admin })
  const message = 'device-profile.create: name: letters, digits, "-" and "_" only'
  expect(await harness.outcome(harness.commandQueue, job.id!)).toEqual({
    returnvalue: { error: { code: 'invalid', status: 400, message, reason: `invalid: ${message}` } },
  })
})

test('a command of an unknown name, or one refused by its object, completes with a typed refusal', async () => {
  harness = await startHarness()
  const unknown = await harness.commandQueue.add('device-profile.rename', {})
  const { returnvalue } = await harness.outcome(harness.commandQueue, unknown.id!)
  expect(returnvalue).toMatchObject({
    error: {
      code: 'invalid',
      status: 400,
      message: expect.stringMatching(/^unknown job name "device-profile.rename" on conductor-commands: expected one of "device-profile.create", /),
    },
  })
  const missing = await harness.commandQueue.add('device-profile.get', { id: harness.key('nowhere'), caller: admin })
  expect(await harness.outcome(harness.commandQueue, missing.id!)).toEqual({
    returnvalue: {
      error: {
        code: 'not_found',
        status: 404,
        message: `no device profile "${harness.key('nowhere')}"`,
        reason: `not_found: no device profile "${harness.key('nowhere')}"`,
      },
    },
  })
  expect(await harness.commandQueue.getJobCounts('failed')).toEqual({ failed: 0 })
})

test('ARQs are created one per unit of every resources count in every group', async () => {
  const { profile } = await hostAndProfile([
    { 'resources:FPGA': '2', 'trait:CUSTOM_FAKE_DEVICE': 'required' },
    { 'resources:FPGA': '1', 'accel:bitstream_id': 'x' },
  ])
  const arqs = await harness.client.command('arq.create', { device_profile_name: profile.name })
  expect(arqs.map((arq) => [arq.device_profile_group_id, arq.state, arq.device_profile_name])).toEqual([
    [0, 'Initial', profile.name],
    [0, 'Initial', profile.name],
    [1, 'Initial', profile.name],
  ])
  expect((await refusal(harness.client.command('device-profile.delete', { id: profile.name }))).message).toMatch(
    /^conflict: device profile .* is used by 3 accelerator request\(s\)/,
  )
})

test('bind allocates a free attach handle, resolved lists it, unbind frees it', async () => {
  const { hostname, profile, rpUuid } = await hostAndProfile()
  const [arq] = await harness.client.command('arq.create', { device_profile_name: profile.name })
  const instance = randomUUID()
  const bound = await harness.client.command('arq.bind', { uuid: arq!.uuid, hostname, device_rp_uuid: rpUuid, instance_uuid: instance })
  expect(bound).toMatchObject({
    state: 'Bound',
    hostname,
    device_rp_uuid: rpUuid,
    instance_uuid: instance,
    attach_handle_type: 'TEST_PCI',
    attach_handle_info: { domain: '0000', bus: '0c', device: '0', function: '1' },
  })
  expect(await harness.client.command('arq.get', { uuid: arq!.uuid })).toEqual(bound)
  expect(await harness.client.command('arq.list', { instance_uuid: instance, bind_state: 'resolved' })).toEqual([bound])
  expect(await harness.prisma.attachHandle.count({ where: { inUse: true, deployable: { device: { hostname } } } })).toBe(1)

  const unbound = await harness.client.command('arq.unbind', { uuid: arq!.uuid })
  expect(unbound).toMatchObject({ state: 'Unbound', hostname: null, instance_uuid: null, attach_handle_type: null })
  expect(await harness.prisma.attachHandle.count({ where: { inUse: true, deployable: { device: { hostname } } } })).toBe(0)
})

test('50 concurrent binds on 16 handles: exactly 16 Bound and 34 BindFailed, no handle given twice', async () => {
  const { hostname, rpUuid } = await hostAndProfile()
  const profile = await harness.client.command('device-profile.create', { name: harness.key('fifty'), groups: [{ 'resources:FPGA': '50' }] })
  const arqs = await harness.client.command('arq.create', { device_profile_name: profile.name })
  expect(arqs).toHaveLength(50)
  const results = await Promise.all(
    arqs.map((arq) => harness.client.command('arq.bind', { uuid: arq.uuid, hostname, device_rp_uuid: rpUuid, instance_uuid: randomUUID() }, 30_000)),
  )
  const count = (state: ArqState) => results.filter((arq) => arq.state === state).length
  expect([count('Bound'), count('BindFailed')]).toEqual([16, 34])
  const handles = results.filter((arq) => arq.state === 'Bound').map((arq) => JSON.stringify(arq.attach_handle_info))
  expect(new Set(handles).size).toBe(16)
  const stored = await harness.prisma.extArq.findMany({ where: { uuid: { in: arqs.map((arq) => arq.uuid) }, state: 'Bound' } })
  expect(new Set(stored.map((arq) => arq.attachHandleId)).size).toBe(16)
  expect(await harness.prisma.attachHandle.count({ where: { inUse: true, deployable: { device: { hostname } } } })).toBe(16)
})

test('illegal transitions are refused with the state and what is allowed', async () => {
  const { hostname, profile, rpUuid } = await hostAndProfile()
  const [arq] = await harness.client.command('arq.create', { device_profile_name: profile.name })
  const bind = () => harness.client.command('arq.bind', { uuid: arq!.uuid, hostname, device_rp_uuid: rpUuid, instance_uuid: randomUUID() })
  await bind()
  expect((await refusal(bind())).message).toBe(`illegal_transition: ARQ ${arq!.uuid} is Bound; it cannot become BindStarted (only from Initial, Unbound)`)
  await harness.client.command('arq.unbind', { uuid: arq!.uuid })
  expect((await refusal(harness.client.command('arq.unbind', { uuid: arq!.uuid }))).message).toBe(
    `illegal_transition: ARQ ${arq!.uuid} is Unbound; it cannot become Unbound (only from Initial, BindStarted, Bound, BindFailed, UnbindFailed)`,
  )
  expect((await refusal(harness.client.command('arq.get', { uuid: randomUUID() }))).code).toBe('not_found')
})

test('a Bound ARQ whose device left the inventory fails to unbind, then unbinds', async () => {
  const { hostname, profile, rpUuid } = await hostAndProfile()
  const [arq] = await harness.client.command('arq.create', { device_profile_name: profile.name })
  await harness.client.command('arq.bind', { uuid: arq!.uuid, hostname, device_rp_uuid: rpUuid, instance_uuid: randomUUID() })
  const { agent, driver } = testAgent(harness, { hostname })
  driver.setDeviceCount(0)
  await harness.outcome(harness.inventoryQueue, await agent.reportInventory())

  expect(await harness.client.command('arq.unbind', { uuid: arq!.uuid })).toMatchObject({ state: 'UnbindFailed' })
  expect(await harness.client.command('arq.unbind', { uuid: arq!.uuid })).toMatchObject({ state: 'Unbound' })
})

test('resolved is refused while an ARQ of the instance is still binding; Deleting counts as resolved', async () => {
  const { profile } = await hostAndProfile([{ 'resources:FPGA': '2' }])
  const arqs = await harness.client.command('arq.create', { device_profile_name: profile.name })
  const instance = randomUUID()
  // As a conductor that crashed mid-bind leaves them: BindStarted, committed.
  await harness.prisma.extArq.updateMany({ where: { uuid: { in: arqs.map((arq) => arq.uuid) } }, data: { state: 'BindStarted', instanceUuid: instance } })
  const unresolved = await refusal(harness.client.command('arq.list', { instance_uuid: instance, bind_state: 'resolved' }))
  expect(unresolved.code).toBe('unresolved')
  await harness.prisma.extArq.updateMany({ where: { uuid: { in: arqs.map((arq) => arq.uuid) } }, data: { state: 'Deleting' } })
  expect(await harness.client.command('arq.list', { instance_uuid: instance, bind_state: 'resolved' })).toHaveLength(2)
})

test('delete by instance frees the handles and removes the ARQs; by uuid likewise', async () => {
  const { hostname, profile, rpUuid } = await hostAndProfile([{ 'resources:FPGA': '3' }])
  const arqs = await harness.client.command('arq.create', { device_profile_name: profile.name })
  const instance = randomUUID()
  for (const arq of arqs.slice(0, 2)) await harness.client.command('arq.bind', { uuid: arq.uuid, hostname, device_rp_uuid: rpUuid, instance_uuid: instance })
  expect(await harness.client.command('arq.delete', { instance_uuid: instance })).toEqual({ deleted: 2 })
  expect(await harness.prisma.attachHandle.count({ where: { inUse: true, deployable: { device: { hostname } } } })).toBe(0)
  expect((await refusal(harness.client.command('arq.get', { uuid: arqs[0]!.uuid }))).code).toBe('not_found')
  expect(await harness.client.command('arq.delete', { uuids: [arqs[2]!.uuid] })).toEqual({ deleted: 1 })
})

test('an ARQ of project A is invisible to project B', async () => {
  const { profile } = await hostAndProfile()
  const [arq] = await harness.client.command('arq.create', { device_profile_name: profile.name, project_id: 'project-a' })
  expect(await harness.client.command('arq.get', { uuid: arq!.uuid, project_id: 'project-a' })).toMatchObject({ uuid: arq!.uuid })
  expect((await refusal(harness.client.command('arq.get', { uuid: arq!.uuid, project_id: 'project-b' }))).code).toBe('not_found')
  expect(await harness.client.command('arq.delete', { uuids: [arq!.uuid], project_id: 'project-b' })).toEqual({ deleted: 0 })
})

test('every state of the table is reachable from Initial, UnbindFailed and Deleting included', () => {
  const reached = new Set<ArqState>(['Initial'])
  for (let grew = true; grew; ) {
    grew = false
    for (const state of arqStates) {
      if (!reached.has(state) && ARQ_TRANSITIONS[state].some((from) => reached.has(from))) {
        reached.add(state)
        grew = true
      }
    }
  }
  expect([...reached].sort()).toEqual([...arqStates].sort())
})

test('a command job from outside the API must carry its caller, and runs with that caller rights only: otherwise it fails, never retried', async () => {
  const { profile } = await hostAndProfile()
  const [arq] = await harness.client.command('arq.create', { device_profile_name: profile.name, project_id: 'project-a' })
  const failedReason = async (name: string, data: Record<string, unknown>) => {
    const job = await harness.commandQueue.add(name, data)
    return (await harness.outcome(harness.commandQueue, job.id!)).failedReason
  }
  // What an agent holding Redis credentials did: list and delete another project's ARQ with no project_id.
  expect(await failedReason('arq.list', {})).toBe(
    'arq.list refused: the job carries no caller ({role, project_id}: whom it acts for); the HTTP API adds it, and a producer outside the API must too (docs/job-contract.md)',
  )
  expect(await failedReason('arq.delete', { uuids: [arq!.uuid] })).toMatch(/^arq.delete refused: the job carries no caller/)
  expect(await failedReason('arq.delete', { uuids: [arq!.uuid], caller: { role: 'reader', project_id: 'project-a' }, project_id: 'project-a' })).toBe(
    'arq.delete refused: a reader caller may not run arq.delete (it needs the arq.write permission)',
  )
  expect(await failedReason('arq.delete', { uuids: [arq!.uuid], caller: { role: 'service', project_id: 'project-b' } })).toBe(
    "arq.delete refused: its project_id (none) is not its caller's project (project-b)",
  )
  expect(await failedReason('arq.get', { uuid: arq!.uuid, caller: { role: 'agent' } })).toMatch(/^arq.get refused: invalid caller: caller.role: /)
  expect(await failedReason('arq.get', { uuid: arq!.uuid, caller: { role: 'service' } })).toBe(
    'arq.get refused: a service caller acts in one project: give caller.project_id',
  )
  // The ARQ is still there; its own project's caller reaches it, and conductor.ping needs no caller.
  const service = { role: 'service', project_id: 'project-a' }
  const get = await harness.commandQueue.add('arq.get', { uuid: arq!.uuid, project_id: 'project-a', caller: service })
  expect((await harness.outcome(harness.commandQueue, get.id!)).returnvalue).toMatchObject({ uuid: arq!.uuid })
  const ping = await harness.commandQueue.add('conductor.ping', {})
  expect((await harness.outcome(harness.commandQueue, ping.id!)).returnvalue).toEqual({ database: 'ok' })
})
