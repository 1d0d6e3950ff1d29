import { afterEach, expect, test } from 'vitest'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const RESTARTS = 3

test('Redis (AOF) restarted three times under load: the conductor and the agents reconnect by themselves and nothing accepted is lost', async () => {
  // Jobs active when Redis went away are retried once their lock expires.
  rig = await startRig({ FLUSH_INTERVAL_MS: '100', JOB_LOCK_MS: '2000' })
  const conductor = rig.startConductor()
  await conductor.ready()
  const agents = rig.startAgents({ keys: 200, writesPerSecond: 200, batchShare: 0.2, seed: 7 })
  agents.start()
  const progress = async (what: string) => {
    const { completed } = await agents.finishedJobs()
    await waitFor(async () => (await agents.finishedJobs()).completed >= completed + 200, what, 30_000)
  }
  for (let restart = 1; restart <= RESTARTS; restart++) {
    await progress(restart === 1 ? 'the conductor to process jobs' : `the conductor to process jobs again after restart ${restart - 1}`)
    await rig.redis.restart()
  }
  await progress(`the conductor to process jobs again after restart ${RESTARTS}`)
  expect(conductor.running).toBe(true)

  await agents.stop()
  await agents.settle(60_000)
  await rig.waitForFlushed(30_000)
  expect(await conductor.terminate()).toBe(0)

  const { ledger, check } = await rig.verify(agents, 'Redis restart', { redisRestarts: RESTARTS })
  expect(check).toMatchObject({ keys: agents.keysWritten.size, lost: 0, regressed: 0, phantom: 0 })
  expect(ledger.jobs).toBeGreaterThanOrEqual(agents.jobsAdded)
})
