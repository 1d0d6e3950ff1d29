// Placement stopped for 30 s while agents report every second, then restarted: the sync converges to the newest snapshots.
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { Agent } from '../../src/agent/agent.ts'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { startPlacementSync } from '../support/placement-sync.ts'
import { waitFor } from '../support/wait-for.ts'

const HOSTS = 4
const OUTAGE_MS = 30_000

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test('Placement down 30 s under reports every second: one sync per host when it returns, writes bounded by hosts, the newest snapshot wins', {
  timeout: 180_000,
}, async () => {
  const { placement, proxy, admin, harness } = await startPlacementSync({ PLACEMENT_RETRY_MAX_MS: '4000' }, cleanups)

  const hosts = Array.from({ length: HOSTS }, (_, index) => harness.key(`outage-${index}`))
  const computeNodes = await Promise.all(hosts.map((host) => admin.createComputeNode(host)))
  const drivers = hosts.map((hostname) => new DummyDriver({ hostname }))
  const agents = hosts.map(
    (hostname, index) =>
      new Agent({ hostname, driver: drivers[index]!, client: harness.client, reportIntervalMs: 1000, usageIntervalMs: 3_600_000, log: harness.log }),
  )
  cleanups.push(() => Promise.all(agents.map((agent) => agent.stop())))
  await Promise.all(agents.map((agent) => agent.start()))
  const traitsOf = async (index: number) => (await admin.children(computeNodes[index]!))[0]?.traits ?? []
  await waitFor(
    async () => (await Promise.all(hosts.map((_, index) => traitsOf(index)))).every((traits) => traits.includes('CUSTOM_FAKE_DEVICE')),
    'every host synced',
  )

  await placement.stop()
  const reportsBefore = (await harness.inventoryQueue.getJobCounts('completed')).completed!
  const mark = proxy.requests.length
  // The newest snapshots, reported during the outage: each host's trait changes twice, the last value must win.
  await delay(OUTAGE_MS / 2)
  for (const [index, host] of hosts.entries()) drivers[index]!.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_OUTAGE_V1')
  await delay(OUTAGE_MS / 4)
  for (const [index, host] of hosts.entries()) drivers[index]!.setAttribute(`${host}_FakeDevice`, 'traits1', 'CUSTOM_OUTAGE_V2')
  await delay(OUTAGE_MS / 4)
  const reportsDuringOutage = (await harness.inventoryQueue.getJobCounts('completed')).completed! - reportsBefore
  // Requests while the restart brings Placement up count as after the outage: the first may already reach it.
  const restart = proxy.requests.length
  const duringOutage = proxy.counts(mark, restart)
  await placement.restart()
  const restarted = Date.now()
  await waitFor(
    async () => (await Promise.all(hosts.map((_, index) => traitsOf(index)))).every((traits) => traits.join() === 'CUSTOM_OUTAGE_V2,OWNER_CYBORG'),
    'every host to converge on its newest snapshot',
    60_000,
  )
  const convergedMs = Date.now() - restarted
  const afterRestart = proxy.counts(restart)

  console.log(
    `placement outage of ${OUTAGE_MS / 1000} s, ${HOSTS} hosts reporting every second: ${reportsDuringOutage} snapshots reconciled meanwhile; ` +
      `${duringOutage.unreachable} sync requests refused during the outage; from the restart on: ${JSON.stringify(afterRestart)} Placement requests, converged in ${convergedMs} ms`,
  )
  expect(reportsDuringOutage).toBeGreaterThanOrEqual(HOSTS * 10)
  expect(duringOutage.reads + duringOutage.writes).toBe(0)
  // Per host: PUT its traits; once for the process: PUT /traits/CUSTOM_OUTAGE_V2. Not one write per report.
  expect(afterRestart.writes).toBeLessThanOrEqual(HOSTS + 1)
  expect(afterRestart.writes).toBeGreaterThanOrEqual(HOSTS)
  // Back-off (up to 4 s): attempts during the outage grow with time and hosts, not with reports.
  expect(duringOutage.unreachable).toBeLessThan(reportsDuringOutage)
})
