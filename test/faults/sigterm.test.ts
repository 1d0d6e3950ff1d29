import { afterEach, expect, test } from 'vitest'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

test('SIGTERM under load: final flush, exit 0, nothing left pending; the jobs it did not take wait for the next conductor', async () => {
  // A long interval, so the final flush has a full buffer to write.
  rig = await startRig({ FLUSH_INTERVAL_MS: '600000' })
  const conductor = rig.startConductor()
  await conductor.ready()
  const agents = rig.startAgents({ keys: 300, writesPerSecond: 400, batchShare: 0.2, seed: 15 })
  agents.start()
  await waitFor(async () => (await rig!.buffer.unflushedCount('usage')) >= 250, 'writes to pile up in the buffer')

  expect(await conductor.terminate()).toBe(0)
  expect(await rig.buffer.unflushedCount('usage')).toBe(0)
  expect(conductor.output()).toContain('conductor stopped')
  await agents.stop()
  const atExit = await agents.ledger()
  const check = atExit.verify(await rig.stored())
  expect(check).toEqual({ keys: check.keys, lost: 0, regressed: 0, phantom: 0, unconfirmedApplied: 0 })
  expect(check.keys).toBeGreaterThanOrEqual(250)

  // What the agents sent after the shutdown began is taken by the next conductor.
  const next = rig.startConductor({ FLUSH_INTERVAL_MS: '100' })
  await next.ready()
  await agents.settle(30_000)
  await rig.waitForFlushed(30_000)
  expect(await next.terminate()).toBe(0)
  const { check: final } = await rig.verify(agents, 'SIGTERM')
  expect(final).toEqual({ keys: agents.keysWritten.size, lost: 0, regressed: 0, phantom: 0, unconfirmedApplied: 0 })
})
