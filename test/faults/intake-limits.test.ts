import { Redis } from 'ioredis'
import { afterEach, expect, test } from 'vitest'
import { BackPressureError } from '../../src/queues/client/back-pressure-error.ts'
import { ConductorClient, writeLimitsOf } from '../../src/queues/client/conductor-client.ts'
import { loadConfig } from '../../src/config.ts'
import { WRITE_JOB } from '../../src/queues/contract/names.ts'
import { faultOf } from '../support/api.ts'
import { waitFor } from '../support/wait-for.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const QUEUE_MAX_DEPTH = 50

test('intake checks everything before it acknowledges: a value over WRITE_VALUE_MAX_BYTES gets 400, a full write queue 503 + Retry-After over HTTP and a BackPressureError for agents', async () => {
  rig = await startRig({ WRITE_VALUE_MAX_BYTES: '100', WRITE_QUEUE_MAX_DEPTH: String(QUEUE_MAX_DEPTH), FLUSH_INTERVAL_MS: '2000' })
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const post = (value: unknown) =>
    fetch(`http://127.0.0.1:${port}/conductor/writes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...rig!.agentHeaders },
      body: JSON.stringify({ writes: [{ entity: 'usage', key: `${rig!.prefix}-k`, version: 1, value }] }),
    })

  const large = await post({ blob: 'x'.repeat(200) })
  expect(large.status).toBe(400)
  expect(faultOf(await large.json())).toBe('invalid write-batch: writes.0.value: 211 bytes of JSON, more than the 100 allowed (WRITE_VALUE_MAX_BYTES)')
  expect((await post({ version: 1 })).status).toBe(202)

  // A backlog the workers do not take yet: jobs delayed for a minute fill the queue to its limit.
  await rig.writeQueue.addBulk(
    Array.from({ length: QUEUE_MAX_DEPTH }, (_, index) => ({
      name: WRITE_JOB,
      data: { entity: 'usage', key: `${rig!.prefix}-d${index}`, version: 1, value: {} },
      opts: { delay: 60_000 },
    })),
  )
  // Intake reads the queue's depth at most every 100 ms: the 202 above may still be its last look.
  const full = await waitFor(async () => {
    const answer = await post({ version: 2 })
    return answer.status === 503 && answer
  }, 'intake to see the full queue')
  expect(full.headers.get('retry-after')).toBe('2')
  const [, depth] =
    /^back-pressure: (\d+) write jobs wait in conductor-writes, WRITE_QUEUE_MAX_DEPTH is 50; retry later$/.exec(faultOf(await full.json())) ?? []
  expect(Number(depth)).toBeGreaterThanOrEqual(QUEUE_MAX_DEPTH)

  // An agent's client checks the same limits before it adds a job.
  const connection = new Redis(rig.redis.url, { maxRetriesPerRequest: null })
  const config = loadConfig({ ...rig.env, WRITE_VALUE_MAX_BYTES: '100', WRITE_QUEUE_MAX_DEPTH: String(QUEUE_MAX_DEPTH), FLUSH_INTERVAL_MS: '2000' })
  const client = new ConductorClient({ connection, prefix: rig.prefix, readTimeoutMs: 1000, writeLimits: writeLimitsOf(config) })
  try {
    const refused = await client.castBatch([{ entity: 'usage', key: `${rig.prefix}-a`, version: 1, value: {} }]).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(BackPressureError)
    expect(refused).toMatchObject({ retryAfterSeconds: 2 })
    await expect(client.cast({ entity: 'usage', key: `${rig.prefix}-a`, version: 1, value: { blob: 'x'.repeat(200) } })).rejects.toThrow(
      'invalid write: value: 211 bytes of JSON, more than the 100 allowed (WRITE_VALUE_MAX_BYTES)',
    )
  } finally {
    await client.close()
    await connection.quit()
  }
})
