import { afterEach, expect, test } from 'vitest'
import { WRITE_JOB } from '../../src/queues/contract/names.ts'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

test('a write that cannot be taken within WRITE_RETRY_HOURS (PostgreSQL down throughout) is dead-lettered with its value, after retries that used none of its attempts', async () => {
  // 0.002 h: 7.2 s of retries, 200 ms doubling up to 1 s apart.
  rig = await startRig({ WRITE_RETRY_HOURS: '0.002', WRITE_RETRY_MAX_DELAY_MS: '1000', DB_CONNECT_TIMEOUT_MS: '500', READ_THROUGH_TIMEOUT_MS: '500' })
  const conductor = rig.startConductor()
  await conductor.ready()
  await rig.postgres.stop()
  const key = `${rig.prefix}-never-seen`
  const job = await rig.writeQueue.add(WRITE_JOB, { entity: 'usage', key, version: 7, value: { version: 7 } }, { attempts: 2, removeOnFail: false })

  // Retried all along: delayed again and again, never failed, its attempts untouched.
  await waitFor(async () => ((await rig!.writeQueue.getJob(job.id!))?.attemptsStarted ?? 0) >= 4, 'the job to be retried', 15_000)
  const retried = (await rig.writeQueue.getJob(job.id!))!
  expect(retried.attemptsMade).toBe(0)
  expect(await retried.getState()).not.toBe('failed')

  await waitFor(async () => (await rig!.writeQueue.getJob(job.id!))?.failedReason, 'the job to be dead-lettered', 20_000)
  const failed = (await rig.writeQueue.getJob(job.id!))!
  expect(failed.failedReason).toMatch(
    /^dead-lettered after \d+ s of retries \(WRITE_RETRY_HOURS\): \d+ writes of keys Redis does not know need their stored version/,
  )
  const letters = await rig.buffer.deadLetters('usage', 10)
  expect(letters).toEqual([
    { entity: 'usage', key, version: 7, value: { version: 7 }, reason: expect.stringMatching(/stored version/), at: expect.any(String) },
  ])
  expect((await rig.buffer.stats('usage')).deadLettered).toBe(1)
  await rig.postgres.start()
})
