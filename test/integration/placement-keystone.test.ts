// The Placement sync through Keystone: Placement with auth_strategy = keystone, the conductor with a service user's token.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { buildApi } from '../../src/conductor.ts'
import { PlacementClient } from '../../src/placement/placement-client.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { testAgent } from '../support/agents.ts'
import { startHarness } from '../support/harness.ts'
import { KeystoneAdmin } from '../support/keystone-admin.ts'
import { passwordToken, startKeystone, startPlacement, type OpenStackServer } from '../support/openstack.ts'
import { PlacementAdmin } from '../support/placement-admin.ts'
import { waitFor } from '../support/wait-for.ts'
import { placementSyncs } from '../support/placement-sync.ts'

let keystone: OpenStackServer
let placement: OpenStackServer
let admin: PlacementAdmin
beforeAll(async () => {
  keystone = await startKeystone()
  placement = await startPlacement({ keystoneUrl: keystone.url })
  const token = await passwordToken(keystone.url)
  admin = new PlacementAdmin(placement.url, async () => token)
}, 300_000)
afterAll(async () => {
  await placement?.remove()
  await keystone?.remove()
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test("through Keystone: the conductor's service user (project service, role admin) reports the host's providers; /readyz sees Placement", async () => {
  // As a deployment sets Cyborg up: a `cyborg` service user with the admin role in the `service` project.
  const user = await (await KeystoneAdmin.connect(keystone.url)).user('service', ['admin'])
  const harness = await startHarness({
    PLACEMENT_URL: placement.url,
    KEYSTONE_URL: keystone.url,
    KEYSTONE_USERNAME: user.username,
    KEYSTONE_PASSWORD: user.password,
    KEYSTONE_PROJECT_NAME: 'service',
  })
  cleanups.push(() => harness.close())
  const syncs = placementSyncs(harness)
  cleanups.push(() => syncs.close())
  const host = harness.key('keystone')
  const cn = await admin.createComputeNode(host)
  cleanups.push(() => admin.removeTree(cn))

  await testAgent(harness, { hostname: host }).agent.reportInventory()
  expect(await syncs.waitForSync(host, 1)).toMatchObject({ computeNode: cn, created: 1 })
  expect(await admin.children(cn)).toMatchObject([
    { uuid: resourceProviderUuid(`${host}_FakeDevice`), inventories: { FPGA: { total: 16, max_unit: 16 } }, traits: ['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'] },
  ])

  const api = await buildApi({ config: harness.config, connection: harness.redis, log: harness.log })
  cleanups.push(() => api.close())
  // The first probe fetches the API's own Keystone token: on a loaded machine it may outlast the check's 3 s.
  const ready = await waitFor(async () => {
    const answer = (await api.inject({ url: '/readyz' })).json()
    return answer.checks.placement.startsWith('ok') && answer
  }, 'readiness to see Placement')
  expect(ready).toMatchObject({ status: 'ready', checks: { placement: 'ok (placement 1.39)' } })
})

test('a token Placement refuses (401) is given up and a new one fetched, once', async () => {
  const tokens = ['gAAAAAbogus-expired-token', await passwordToken(keystone.url)]
  let invalidated = 0
  const client = new PlacementClient(
    placement.url,
    { token: async () => tokens[Math.min(invalidated, 1)]!, invalidate: () => void invalidated++ },
    { timeoutMs: 5000 },
  )
  expect(await client.providerByName('no-such-compute-node')).toBeUndefined()
  expect(invalidated).toBe(1)
  // A token that stays refused is reported, not retried forever.
  const refused = new PlacementClient(placement.url, { token: async () => 'gAAAAAbogus', invalidate: () => {} }, { timeoutMs: 5000 })
  await expect(refused.providerByName('x')).rejects.toMatchObject({ name: 'PlacementError', status: 401 })
})
