// 100 hosts × 8 deployables synced to a real Placement: the time to converge and the requests it takes.
// In the fault suite for its length (the test Placement runs its writes one at a time: about 2,400 of them).
// It uses the test database of the main suite (TEST_DATABASE_URL), migrated here when run on its own.
import { afterEach, beforeAll, expect, test } from 'vitest'
import migrateTestDatabase from '../support/global-setup.ts'
import { resourceProviderUuid } from '../../src/queues/contract/name-uuid.ts'
import { testAgent } from '../support/agents.ts'
import { startPlacementSync } from '../support/placement-sync.ts'
import { waitFor } from '../support/wait-for.ts'

beforeAll(() => migrateTestDatabase(), 120_000)

const HOSTS = 100
const DEPLOYABLES = 8
/** Twice what a loaded 2-core machine took (see the log line and docs/operations.md); a regression past it fails. */
const CONVERGE_WITHIN_MS = 480_000

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test(`${HOSTS} hosts × ${DEPLOYABLES} deployables converge in Placement; requests per host measured; a second round of unchanged snapshots writes nothing`, {
  timeout: 900_000,
}, async () => {
  const { proxy, admin, harness, syncs } = await startPlacementSync({}, cleanups)

  const hosts = Array.from({ length: HOSTS }, (_, index) => harness.key(`scale-${index}`))
  for (const host of hosts) await admin.createComputeNode(host)
  const agents = hosts.map((hostname) => testAgent(harness, { hostname, devices: DEPLOYABLES }).agent)
  const synced = async () => {
    const { resource_providers } = await admin.ok<{ resource_providers: { name: string }[] }>(
      'GET',
      `/resource_providers?resources=FPGA:16&required=CUSTOM_FAKE_DEVICE,OWNER_CYBORG`,
    )
    return resource_providers.filter((provider) => provider.name.startsWith(harness.prefix)).length
  }

  // Progress is watched in Redis (the sync jobs), not by querying Placement, which the polling would slow down.
  const completedSyncs = async () => (await syncs.queue.getJobCounts('completed')).completed!
  const started = Date.now()
  await Promise.all(agents.map((agent) => agent.reportInventory()))
  await waitFor(async () => (await completedSyncs()) >= HOSTS, `${HOSTS} hosts synced`, CONVERGE_WITHIN_MS)
  const convergedMs = Date.now() - started
  expect(await synced()).toBe(HOSTS * DEPLOYABLES)
  const first = proxy.counts()
  expect(first.unreachable).toBe(0)
  // Per host: 2 reads, and per deployable POST + PUT inventories + PUT traits; CUSTOM_FAKE_DEVICE created once.
  expect(first).toMatchObject({ reads: 2 * HOSTS, writes: 3 * HOSTS * DEPLOYABLES + 1 })
  const sample = resourceProviderUuid(`${hosts[0]}_FakeDevice3`)
  expect(await admin.ok('GET', `/resource_providers/${sample}/traits`)).toMatchObject({
    traits: expect.arrayContaining(['CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG']),
  })

  const mark = proxy.requests.length
  const again = Date.now()
  await Promise.all(agents.map((agent) => agent.reportInventory()))
  await waitFor(async () => (await completedSyncs()) >= 2 * HOSTS, 'the second round of syncs', 120_000)
  const unchangedMs = Date.now() - again
  const second = proxy.counts(mark)
  expect(second).toEqual({ reads: 2 * HOSTS, writes: 0, unreachable: 0 })
  console.log(
    `${HOSTS} hosts × ${DEPLOYABLES} deployables: converged in ${convergedMs} ms after the reports, ${first.reads + first.writes} Placement requests ` +
      `(${first.reads} reads, ${first.writes} writes; ${(first.reads + first.writes) / HOSTS} per host); ` +
      `unchanged round: ${second.reads} reads, ${second.writes} writes, all syncs done in ${unchangedMs} ms`,
  )
})
