import { afterEach, expect, test } from 'vitest'
import type { DurabilityMode } from '../../src/config.ts'
import { waitFor } from '../support/wait-for.ts'
import { reportFigures } from './support/figures.ts'
import { HttpWriters } from './support/http-writers.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

// Every fdatasync of redis-server takes 3 s, as on a busy cloud volume.
const FSYNC_DELAY_MS = 3000
// Several acknowledged batches of writes, not only the workers' own bookkeeping.
const HELD_BACK_BYTES = 32 * 1024

/** HTTP writers, each write a key of its own, until Redis is killed -9 and restarted from its AOF; then what PostgreSQL holds of what they were told. */
async function crashOnSlowDisk(mode: DurabilityMode) {
  rig = await startRig(
    // No flush runs between the first write and the crash (one every 10 minutes), so none can have read what
    // Redis then loses and saved it after all (a CI run saw a 5 s interval's flush do that: nothing lost);
    // the conductor's final flush at SIGTERM saves the rest.
    { DURABILITY: mode, REDIS_COMMAND_TIMEOUT_MS: '15000', FLUSH_INTERVAL_MS: '600000', FLUSH_TIMEOUT_MS: '2000', JOB_LOCK_MS: '3000' },
    { redis: { appendfsync: mode === 'strict' ? 'always' : 'everysec' } },
  )
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  await rig.redis.slowDisk(FSYNC_DELAY_MS)
  let next = 0
  const writers = new HttpWriters({
    port,
    headers: rig.agentHeaders,
    prefix: rig.prefix,
    batch: 100,
    concurrency: 8,
    nextKey: () => next++,
    requestTimeoutMs: 20_000,
  })
  writers.start()
  // Under appendfsync always every acknowledgement waits for a 3 s fsync: 400 writes there take about 20 s.
  const beforeCrash = mode === 'strict' ? 400 : 1000
  await waitFor(() => writers.acknowledgedWrites >= beforeCrash, 'writes to be acknowledged on the slow disk', 120_000)
  // From here on the writes wait in the queue: what Redis then holds back is the intake's acknowledged jobs alone.
  // A worker taking them would hold them in memory and accept them again into the restarted Redis, so whether an
  // acknowledged write was lost depended on the moment (three runs of the default mode lost 0, 0 and 500).
  if (mode === 'default') await rig.writeQueue.pause()
  // The worst moment of everysec: an fsync in progress and acknowledged writes held back in Redis's AOF buffer
  // (it postpones its write() up to 2 s behind a pending fsync). Crash in the same turn that sees it: that
  // moment lasts at most 2 s, and a second INFO before the kill has missed it (a CI run saw an empty buffer).
  const heldBack = /aof_pending_bio_fsync:[1-9]/
  let persistence = ''
  await waitFor(
    async () => {
      persistence = await rig!.redisInfo('persistence')
      const buffered = Number(persistence.match(/aof_buffer_length:(\d+)/)?.[1] ?? 0)
      return mode === 'strict' || (heldBack.test(persistence) && buffered >= HELD_BACK_BYTES) || undefined
    },
    'writes held back by a slow fsync',
    60_000,
  )
  const crashedAt = Date.now()
  await rig.redis.crashAndRestart()
  // The pause was written before the held-back writes, so the restarted Redis has it.
  if (mode === 'default') await rig.writeQueue.resume()
  console.log(
    `[faults] slow disk, DURABILITY=${mode}: at the crash ${persistence.match(/aof_(delayed_fsync|pending_bio_fsync|buffer_length):\d+/g)?.join(' ')}`,
  )
  const atCrash = writers.acknowledgedWrites
  await waitFor(() => writers.acknowledgedWrites >= atCrash + 300, 'writes to be acknowledged again after the restart', 60_000)
  await writers.stop()
  await waitFor(
    async () => Object.values(await rig!.writeQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((count) => count === 0),
    'the write queue to drain',
    60_000,
  )
  expect(await conductor.terminate()).toBe(0)
  expect(await rig.buffer.unflushedCount('usage')).toBe(0)
  const stored = await rig.stored()
  const check = writers.verify(stored)
  // How long before the crash the oldest lost write was acknowledged.
  const oldestLossMs = Math.max(0, ...writers.missing(stored).map(({ acknowledgedAt }) => crashedAt - acknowledgedAt))
  console.log(
    `[faults] slow disk, DURABILITY=${mode}: ${atCrash} writes acknowledged before kill -9 of Redis; ${JSON.stringify(check)}, oldest loss acknowledged ${oldestLossMs} ms before the crash; HTTP answers ${JSON.stringify(writers.answers)}`,
  )
  return { ...check, oldestLossMs }
}

test('DURABILITY=strict (appendfsync always) on a slow disk: kill -9 of Redis loses no acknowledged write', async () => {
  const check = await crashOnSlowDisk('strict')
  reportFigures('slow disk, strict', { slowDiskLossStrict: check.lost, keysChecked: check.keys, lost: check.lost, regressed: check.regressed })
  expect(check).toEqual({ keys: check.keys, lost: 0, regressed: 0, oldestLossMs: 0 })
})

test('DURABILITY=default (appendfsync everysec) on a slow disk: kill -9 of Redis loses the writes of its stated window, and only them', async () => {
  const check = await crashOnSlowDisk('default')
  // Reported, not counted as lost keys: the default's loss window is documented (docs/operations.md, "Durability").
  reportFigures('slow disk, default', { slowDiskLossDefault: check.lost, keysChecked: 0, lost: 0, regressed: 0 })
  // The slow disk is real: everysec loses what Redis had not written when it died, strict above lost nothing;
  // and only the window docs/operations.md states: writes acknowledged within 2 s of the crash (plus a request's time).
  expect(check.lost).toBeGreaterThan(0)
  expect(check.regressed).toBe(0)
  expect(check.oldestLossMs).toBeLessThanOrEqual(3000)
})
