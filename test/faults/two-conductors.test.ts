import { afterEach, expect, test } from 'vitest'
import { waitFor } from '../support/wait-for.ts'
import { auditedFlushes, installFlushAudit } from './support/flush-audit.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

test('two conductors at once: both flush, no flush transaction overlaps another, and the result is exact', async () => {
  rig = await startRig({ FLUSH_INTERVAL_MS: '50', FLUSH_BATCH_MAX: '30', LOG_LEVEL: 'debug' })
  await installFlushAudit(rig.postgres.url)
  const conductors = [rig.startConductor(), rig.startConductor()]
  await Promise.all(conductors.map((conductor) => conductor.ready()))
  const agents = rig.startAgents({ keys: 300, writesPerSecond: 400, batchShare: 0.2, seed: 2 })
  agents.start()
  await waitFor(async () => (await agents.finishedJobs()).completed >= 2500, 'both conductors to work through the load', 60_000)
  await agents.stop()
  await agents.settle(30_000)
  await rig.waitForFlushed(30_000)
  expect(await Promise.all(conductors.map((conductor) => conductor.terminate()))).toEqual([0, 0])

  const { ledger, check } = await rig.verify(agents, 'two conductors')
  const flushes = await auditedFlushes(rig.postgres.url)
  console.log(`[faults] two conductors: flush transactions ${JSON.stringify(flushes)}`)
  expect(check).toEqual({ keys: agents.keysWritten.size, lost: 0, regressed: 0, phantom: 0, unconfirmedApplied: 0 })
  expect(ledger.jobs).toBeGreaterThanOrEqual(agents.jobsAdded)
  expect(flushes.overlapping).toBe(0)
  expect(flushes.transactions).toBeGreaterThan(20)
  for (const conductor of conductors) {
    expect(conductor.logs().filter((entry) => entry.msg === 'flushed').length).toBeGreaterThan(0)
  }
})
