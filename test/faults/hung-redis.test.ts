import { afterEach, expect, test } from 'vitest'
import { seededRandom } from '../support/harness.ts'
import { waitFor } from '../support/wait-for.ts'
import { reportFigures } from './support/figures.ts'
import { HttpWriters } from './support/http-writers.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const HANG_MS = 10_000
const COMMAND_TIMEOUT_MS = 500
const SHUTDOWN_TIMEOUT_MS = 4000
// What an answer during the hang may take: the command timeout, and a slow machine's scheduling.
const ANSWER_WITHIN_MS = 4000

test('Redis hung (a proxy that stops forwarding): every request answers 503/504 in bounded time, SIGTERM exits within SHUTDOWN_TIMEOUT_MS, and every acknowledged write reaches PostgreSQL afterwards', async () => {
  rig = await startRig(
    {
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      FLUSH_INTERVAL_MS: '200',
      READ_TIMEOUT_MS: '1000',
      JOB_LOCK_MS: '2000',
    },
    { hangable: true },
  )
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const random = seededRandom(41)
  const writers = new HttpWriters({
    port,
    headers: rig.agentHeaders,
    prefix: rig.prefix,
    batch: 10,
    concurrency: 2,
    nextKey: () => Math.floor(random() * 500),
    requestTimeoutMs: ANSWER_WITHIN_MS + 2000,
  })
  writers.start()
  await waitFor(() => writers.acknowledgedWrites >= 1000, 'the writers to be under way', 30_000)
  const cachedKey = [...writers.acknowledged.keys()][0]!

  rig.redisProxy!.hang()
  const hungAt = Date.now()
  const url = (path: string) => `http://127.0.0.1:${port}${path}`
  // A request still unanswered well past the bound is given up (status 0), so a hang fails the test rather than stalls it.
  const signal = () => AbortSignal.timeout(ANSWER_WITHIN_MS + 2000)
  const probes = {
    write: () =>
      fetch(url('/conductor/writes'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...rig!.agentHeaders },
        body: JSON.stringify({ writes: [{ entity: 'usage', key: cachedKey, version: 1, value: {} }] }),
        signal: signal(),
      }),
    cachedRead: () => fetch(url(`/conductor/entities/usage/${cachedKey}`), { headers: rig!.adminHeaders, signal: signal() }),
    metrics: () => fetch(url('/metrics'), { signal: signal() }),
    v2List: () => fetch(url('/v2/device_profiles'), { headers: rig!.adminHeaders, signal: signal() }),
    v2Show: () => fetch(url('/v2/device_profiles/8f7a5c39-4bd4-4a57-9b5d-0a4e1c2f0d11'), { headers: rig!.adminHeaders, signal: signal() }),
    readyz: () => fetch(url('/readyz'), { signal: signal() }),
  }
  const answers: Record<string, { status: number; ms: number }> = {}
  for (const [name, probe] of Object.entries(probes)) {
    const started = Date.now()
    const status = await probe()
      .then(async (response) => {
        await response.arrayBuffer()
        return response.status
      })
      .catch(() => 0)
    answers[name] = { status, ms: Date.now() - started }
  }
  console.log(`[faults] hung Redis: answers during the hang ${JSON.stringify(answers)}`)
  for (const [name, { status, ms }] of Object.entries(answers)) {
    expect({ name, status: [503, 504].includes(status) ? '503/504' : status }).toEqual({ name, status: '503/504' })
    expect({ name, ms: ms <= ANSWER_WITHIN_MS }).toEqual({ name, ms: true })
  }
  await waitFor(() => Date.now() - hungAt >= HANG_MS && true, 'the hang to last its length', HANG_MS + 5000)

  // SIGTERM while Redis still hangs: the process ends within its bound, pending writes left in Redis.
  const terminating = Date.now()
  const code = await conductor.terminate()
  const exitMs = Date.now() - terminating
  expect(exitMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS + 3000)
  expect(code).not.toBeNull()
  await writers.stop()
  rig.redisProxy!.resume()
  const hungSeconds = (Date.now() - hungAt) / 1000

  // The next conductor flushes what the first left in Redis.
  const next = rig.startConductor()
  await next.ready()
  await waitFor(
    async () => Object.values(await rig!.writeQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((count) => count === 0),
    'the write queue to drain',
    60_000,
  )
  await rig.waitForFlushed(60_000)
  expect(await next.terminate()).toBe(0)
  const http = writers.verify(await rig.stored())
  reportFigures('hung Redis', {
    hungRedisSeconds: hungSeconds,
    hungRedisWritesChecked: http.keys,
    keysChecked: http.keys,
    lost: http.lost,
    regressed: http.regressed,
  })
  console.log(`[faults] hung Redis: SIGTERM exit ${code} after ${exitMs} ms; HTTP answers ${JSON.stringify(writers.answers)}`)
  expect(http).toEqual({ keys: http.keys, lost: 0, regressed: 0 })
})
