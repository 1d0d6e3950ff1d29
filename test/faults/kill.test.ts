import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { flushFaultPoints, type FlushFaultPoint } from '../../src/config.ts'
import { seededRandom } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const KILLS = 20
const SEED = 9

test('kill -9 at 20 moments under load, six of them inside a flush: PostgreSQL ends with exactly the newest accepted version of every key', async () => {
  // Small batches, so a flush is often under way; short job locks and flush leases, so a dead conductor's work is taken over soon.
  rig = await startRig({ FLUSH_INTERVAL_MS: '100', FLUSH_BATCH_MAX: '40', FLUSH_TIMEOUT_MS: '1000', JOB_LOCK_MS: '1000' })
  const agents = rig.startAgents({ keys: 300, writesPerSecond: 300, batchShare: 0.2, seed: SEED })
  agents.start()
  const random = seededRandom(SEED)
  // Every third kill is inside a flush, at each fault point in turn; the others at a random moment, starting up included.
  const plan: (FlushFaultPoint | 'random')[] = Array.from({ length: KILLS }, (_, i) => (i % 3 === 2 ? flushFaultPoints[Math.floor(i / 3) % 3]! : 'random'))
  let kills = 0
  for (const moment of plan) {
    if (moment === 'random') {
      const conductor = rig.startConductor()
      // The moment of the kill is what is random here: this waits for no event.
      await delay(300 + random() * 2500)
      await conductor.kill()
    } else {
      const conductor = rig.startConductor({ FAULT_INJECT: moment })
      await waitFor(() => !conductor.running, `the conductor to kill itself ${moment}`, 30_000)
      expect(await conductor.exited()).toBe('SIGKILL')
      // It died holding a batch, which stays in Redis for the next flush.
      expect((await rig.buffer.stats('usage')).flushing).toBeGreaterThan(0)
    }
    kills += 1
  }

  const survivor = rig.startConductor()
  await survivor.ready()
  await agents.stop()
  await agents.settle(60_000)
  await rig.waitForFlushed(30_000)
  expect(await survivor.terminate()).toBe(0)

  const { ledger, check } = await rig.verify(agents, 'kill -9', { kills })
  expect(check).toMatchObject({ keys: agents.keysWritten.size, lost: 0, regressed: 0, phantom: 0 })
  expect(ledger.jobs).toBeGreaterThanOrEqual(agents.jobsAdded)
  expect(ledger.completedJobs).toBeGreaterThan(1000)
})
