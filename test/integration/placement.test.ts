// The Placement sync against a real Placement (Debian's python3-placement, noauth2), counted through a proxy.
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { buildApi, Conductor } from '../../src/conductor.ts'
import { ConductorMetrics } from '../../src/metrics/conductor-metrics.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { storedHost, testAgent } from '../support/agents.ts'
import { startApi } from '../support/api.ts'
import { CountingProxy } from '../support/counting-proxy.ts'
import { startHarness, type Harness, type Settings } from '../support/harness.ts'
import { startPlacement, type OpenStackServer } from '../support/openstack.ts'
import { PlacementAdmin } from '../support/placement-admin.ts'
import { placementSyncs } from '../support/placement-sync.ts'
import { waitFor } from '../support/wait-for.ts'

let placement: OpenStackServer
let proxy: CountingProxy
let admin: PlacementAdmin
beforeAll(async () => {
  placement = await startPlacement()
  proxy = await CountingProxy.start(placement.url)
  admin = new PlacementAdmin(placement.url)
}, 300_000)
afterAll(async () => {
  await proxy?.close()
  await placement?.remove()
})

let harness: Harness
let syncs: ReturnType<typeof placementSyncs>
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(settings: Settings = {}, options = { start: true }) {
  harness = await startHarness({ PLACEMENT_URL: proxy.url, PLACEMENT_RETRY_MAX_MS: '1000', ...settings }, options)
  syncs = placementSyncs(harness)
  cleanups.push(
    () => harness.close(),
    () => syncs.close(),
  )
}

async function computeNode(nodename: string): Promise<string> {
  const uuid = await admin.createComputeNode(nodename)
  cleanups.push(() => admin.removeTree(uuid))
  return uuid
}

const STANDARD_INVENTORY = { reserved: 0, min_unit: 1, step_size: 1, allocation_ratio: 1 }

test("each deployable a child provider of its host's compute node, with Cyborg's uuid, rc, traits and total; found by allocation candidates; an unchanged snapshot writes nothing", async () => {
  await start()
  const host = harness.key('compute')
  const cn = await computeNode(host)
  const { agent } = testAgent(harness, { hostname: host, devices: 2, types: ['FPGA', 'GPU'] })
  const before = proxy.requests.length
  await agent.reportInventory()
  const first = await syncs.waitForSync(host, 1)

  const [fpga, gpu] = [`${host}_FakeDevice`, `${host}_FakeDevice1`]
  const children = await admin.children(cn)
  expect(children).toEqual([
    {
      uuid: resourceProviderUuid(fpga),
      name: fpga,
      generation: 2,
      inventories: { FPGA: { total: 16, max_unit: 16, ...STANDARD_INVENTORY } },
      traits: ['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'],
    },
    {
      uuid: resourceProviderUuid(gpu),
      name: gpu,
      generation: 2,
      inventories: { PGPU: { total: 16, max_unit: 16, ...STANDARD_INVENTORY } },
      traits: ['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG'],
    },
  ])
  // The rp_uuid stored on each deployable is its provider's.
  const stored = (await storedHost(harness, host)).flatMap((device) => device.deployables.map(({ name, rpUuid }) => ({ uuid: rpUuid, name })))
  expect(stored.sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(children.map(({ uuid, name }) => ({ uuid, name })))
  console.log(`provider tree of ${host} (GET /resource_providers?in_tree=${cn}):\n${JSON.stringify(await admin.tree(cn), null, 2)}`)
  console.log(`its children's inventories and traits:\n${JSON.stringify(children, null, 2)}`)

  // First sync: the compute node and its tree read; per provider POST, PUT inventories, PUT traits; CUSTOM_FAKE_DEVICE made sure of once.
  expect(first).toMatchObject({ computeNode: cn, created: 2, updated: 0, deleted: 0, requests: { reads: 2, writes: 7 } })
  expect(proxy.counts(before)).toEqual({ reads: 2, writes: 7, unreachable: 0 })
  console.log(`first sync of a host with 2 deployables: ${JSON.stringify(proxy.counts(before))} Placement requests`)

  const { body: candidates } = await admin.call<{
    allocation_requests: { allocations: Record<string, unknown> }[]
    provider_summaries: Record<string, { parent_provider_uuid: string; root_provider_uuid: string }>
  }>('GET', '/allocation_candidates?resources=FPGA:1&required=CUSTOM_FAKE_DEVICE')
  const ours = candidates.allocation_requests.filter((request) => resourceProviderUuid(fpga) in request.allocations)
  expect(ours).toEqual([{ allocations: { [resourceProviderUuid(fpga)]: { resources: { FPGA: 1 } } }, mappings: { '': [resourceProviderUuid(fpga)] } }])
  expect(candidates.provider_summaries[resourceProviderUuid(fpga)]).toMatchObject({ parent_provider_uuid: cn, root_provider_uuid: cn })
  console.log(
    `GET /allocation_candidates?resources=FPGA:1&required=CUSTOM_FAKE_DEVICE (this host's part):\n${JSON.stringify({ allocation_requests: ours, provider_summaries: { [resourceProviderUuid(fpga)]: candidates.provider_summaries[resourceProviderUuid(fpga)], [cn]: candidates.provider_summaries[cn] } }, null, 2)}`,
  )

  const again = proxy.requests.length
  await agent.reportInventory()
  const second = await syncs.waitForSync(host, 2)
  expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 2, deleted: 0, requests: { reads: 2, writes: 0 } })
  expect(proxy.counts(again)).toEqual({ reads: 2, writes: 0, unreachable: 0 })
  console.log(`unchanged snapshot: ${JSON.stringify(proxy.counts(again))} Placement requests`)
})

test("a removed device's provider is deleted, a changed trait and resource class replaced; Nova's own child provider stays", async () => {
  await start()
  const host = harness.key('changing')
  const cn = await computeNode(host)
  const novaChild = await admin.ok<{ uuid: string }>('POST', '/resource_providers', { name: `${host}_pgpu_nova`, parent_provider_uuid: cn })
  const { agent, driver } = testAgent(harness, { hostname: host, devices: 2 })
  await agent.reportInventory()
  await syncs.waitForSync(host, 1)
  expect((await admin.children(cn)).map((child) => child.name)).toEqual([`${host}_FakeDevice`, `${host}_FakeDevice1`, `${host}_pgpu_nova`])

  driver.setDeviceCount(1)
  driver.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_FAKE_DEVICE_V2')
  driver.setAttribute(`${host}_FakeDevice`, 'rc', 'CUSTOM_FPGA_V2')
  await agent.reportInventory()
  expect(await syncs.waitForSync(host, 2)).toMatchObject({ created: 0, updated: 1, deleted: 1, inUse: [] })
  const children = await admin.children(cn)
  expect(children.map(({ name, inventories, traits }) => ({ name, inventories, traits }))).toEqual([
    {
      name: `${host}_FakeDevice`,
      inventories: { CUSTOM_FPGA_V2: { total: 16, max_unit: 16, ...STANDARD_INVENTORY } },
      traits: ['CUSTOM_FAKE_DEVICE_V2', 'OWNER_CYBORG'],
    },
    { name: `${host}_pgpu_nova`, inventories: {}, traits: [] },
  ])
  expect(children[1]!.uuid).toBe(novaChild.uuid)
  expect((await admin.call('GET', `/resource_providers/${resourceProviderUuid(`${host}_FakeDevice1`)}`)).status).toBe(404)

  // Every device gone: every provider of Cyborg's goes, the compute node and Nova's child stay.
  driver.setDeviceCount(0)
  await agent.reportInventory()
  expect(await syncs.waitForSync(host, 3)).toMatchObject({ deleted: 1 })
  expect((await admin.tree(cn)).map((provider) => provider.uuid).sort()).toEqual([cn, novaChild.uuid].sort())
})

test('a generation conflict (another writer changes the provider between read and write) is re-read and retried', async () => {
  await start()
  const host = harness.key('contended')
  const cn = await computeNode(host)
  const { agent, driver } = testAgent(harness, { hostname: host })
  const provider = resourceProviderUuid(`${host}_FakeDevice`)
  await agent.reportInventory()
  await syncs.waitForSync(host, 1)

  // Just before the conductor's trait write reaches Placement, an operator reserves 2 FPGAs.
  let injected = false
  proxy.beforeForward = async ({ method, path }) => {
    if (injected || method !== 'PUT' || path !== `/resource_providers/${provider}/traits`) return
    injected = true
    const { resource_provider_generation } = await admin.ok<{ resource_provider_generation: number }>('GET', `/resource_providers/${provider}/inventories`)
    await admin.ok('PUT', `/resource_providers/${provider}/inventories/FPGA`, { resource_provider_generation, total: 16, max_unit: 16, reserved: 2 })
  }
  cleanups.push(async () => (proxy.beforeForward = undefined))
  const mark = proxy.requests.length
  driver.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_CONTENDED_V2')
  await agent.reportInventory()
  expect(await syncs.waitForSync(host, 2)).toMatchObject({ updated: 1 })
  expect(injected).toBe(true)
  const traitWrites = proxy.requests.slice(mark).filter((request) => request.method === 'PUT' && request.path.endsWith('/traits'))
  expect(traitWrites.map((request) => request.status)).toEqual([409, 200])
  const [child] = await admin.children(cn)
  // Both writers' changes hold: the operator's reservation and the new trait.
  expect(child).toMatchObject({ inventories: { FPGA: { total: 16, max_unit: 16, reserved: 2 } }, traits: ['CUSTOM_CONTENDED_V2', 'OWNER_CYBORG'] })
})

test('a compute node provider not there yet (Nova not up) is retried, logged without a stack and counted; a mapped nodename is found once Nova creates it', async () => {
  await start({}, { start: false })
  const host = harness.key('early')
  const nodename = `${host}.compute.example.org`
  const lines: string[] = []
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
  const metrics = new ConductorMetrics()
  const config = { ...harness.config, PLACEMENT_NODE_NAMES: [{ host, nodename }] }
  const conductor = await Conductor.start({ config, prisma: harness.prisma, log, metrics })
  cleanups.push(() => conductor.close())
  const api = await buildApi({ config, connection: harness.redis, log })
  cleanups.push(() => api.close())

  const { agent } = testAgent(harness, { hostname: host })
  await agent.reportInventory()
  const missing = () => lines.filter((line) => line.includes('compute node provider not in Placement yet'))
  await waitFor(() => missing().length >= 2, 'two attempts to find the compute node')
  expect(JSON.parse(missing()[0]!)).toMatchObject({ hostname: host, nodename, attempt: 1 })
  expect(lines.some((line) => line.includes('"stack"'))).toBe(false)
  expect(await metrics.registry.getSingleMetricAsString('cyborg_placement_syncs_total')).toMatch(
    /cyborg_placement_syncs_total\{outcome="no_compute_node"\} [2-9]/,
  )
  // Inventory reconciliation did not wait for Placement.
  expect(await storedHost(harness, host)).toHaveLength(1)

  const cn = await computeNode(nodename)
  expect(await syncs.waitForSync(host, 1)).toMatchObject({ nodename, computeNode: cn, created: 1 })
  expect(await admin.children(cn)).toHaveLength(1)
  const ready = await api.inject({ url: '/readyz' })
  expect(ready.json()).toMatchObject({ status: 'ready', checks: { placement: 'ok (placement 1.39)' } })
  expect(await metrics.registry.getSingleMetricAsString('cyborg_placement_providers')).toMatch(/cyborg_placement_providers 1$/m)
  expect(await metrics.registry.getSingleMetricAsString('cyborg_placement_sync_lag_seconds')).toContain(`host="${host}"`)
  expect(await metrics.registry.getSingleMetricAsString('cyborg_placement_requests_total')).toMatch(/method="POST",outcome="ok"\} 1/)
})

test("a disabled device's providers are reserved whole (no candidate), enabled again none, and the host's unchanged reports keep it so", async () => {
  const api = await startApi({ PLACEMENT_URL: proxy.url, PLACEMENT_RETRY_MAX_MS: '1000' })
  harness = api.harness
  syncs = placementSyncs(harness)
  cleanups.push(
    () => harness.close(),
    () => api.app.close(),
    () => syncs.close(),
  )
  const host = harness.key('maintained')
  const cn = await computeNode(host)
  const { agent } = testAgent(harness, { hostname: host })
  await agent.reportInventory()
  await syncs.waitForSync(host, 1)
  const [device] = await storedHost(harness, host)
  const provider = resourceProviderUuid(`${host}_FakeDevice`)
  const reserved = async () => (await admin.children(cn))[0]!.inventories.FPGA!.reserved
  const candidate = async () => {
    const { body } = await admin.call<{ allocation_requests: { allocations: Record<string, unknown> }[] }>('GET', '/allocation_candidates?resources=FPGA:16')
    return body.allocation_requests.some((request) => provider in request.allocations)
  }
  expect({ reserved: await reserved(), candidate: await candidate() }).toEqual({ reserved: 0, candidate: true })

  expect((await api.app.inject({ method: 'POST', url: `/v2/devices/${device!.uuid}/disable`, headers: api.as('admin') })).statusCode).toBe(200)
  await syncs.waitForSync(host, 2)
  expect({ reserved: await reserved(), candidate: await candidate() }).toEqual({ reserved: 16, candidate: false })
  // The agent's next report (unchanged) keeps the device disabled in Placement: nothing written.
  await agent.reportInventory()
  expect(await syncs.waitForSync(host, 3)).toMatchObject({ unchanged: 1, requests: { writes: 0 } })

  expect((await api.app.inject({ method: 'POST', url: `/v2/devices/${device!.uuid}/enable`, headers: api.as('admin') })).statusCode).toBe(200)
  await syncs.waitForSync(host, 4)
  expect({ reserved: await reserved(), candidate: await candidate() }).toEqual({ reserved: 0, candidate: true })
})
