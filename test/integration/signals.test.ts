import { afterEach, expect, test } from 'vitest'
import { runNpm, type Child } from '../support/child.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services.ts'
import { waitFor } from '../support/wait-for.ts'

// `npm start` and `npm run agent` as operators run them, each in a process group of its own as a
// terminal's foreground job is: npm, then node in place of npm's shell.

let harness: Harness | undefined
let child: Child | undefined
afterEach(async () => {
  if (child && groupAlive(child)) process.kill(-child.process.pid!, 'SIGKILL')
  child = undefined
  await harness?.close()
  harness = undefined
})

/** Whether any process of the child's process group is left. */
function groupAlive(started: Child): boolean {
  try {
    process.kill(-started.process.pid!, 0)
    return true
  } catch {
    return false
  }
}

/** The pid of the node process behind npm: pino writes it on every log line. */
async function nodePid(started: Child): Promise<number> {
  return waitFor(() => Number(/"pid":(\d+)/.exec(started.output())?.[1]) || undefined, 'a log line of the node process')
}

const stops: [string, (started: Child) => Promise<void>][] = [
  ['Ctrl+C (SIGINT to the whole foreground process group: npm and node)', async (started) => void process.kill(-started.process.pid!, 'SIGINT')],
  ['kill -TERM of the pid `npm start &` gave', async (started) => void process.kill(started.process.pid!, 'SIGTERM')],
  ['SIGTERM to the node process', async (started) => void process.kill(await nodePid(started), 'SIGTERM')],
]

test.each(stops)('npm start, stopped by %s: no new jobs, the final flush, exit 0, no process left', async (_how, stop) => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '600000' }, { start: false })
  child = runNpm('start', {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: harness.prefix,
    FLUSH_INTERVAL_MS: '600000',
    PORT: '0',
  })
  await waitFor(() => child!.output().includes('"conductor started"') || undefined, 'the conductor to start', 60_000)
  const pid = await nodePid(child)
  expect(pid).not.toBe(child.process.pid)
  await harness.waitForFirstFlush()
  const writes = Array.from({ length: 500 }, (_, i) => ({ entity: 'usage', key: harness!.key(i), version: 1, value: { i } }))
  const jobId = await harness.client.castBatch(writes)
  expect(await harness.outcome(harness.writeQueue, jobId)).toEqual({ returnvalue: { accepted: 500, stale: 0 } })
  expect(await harness.buffer.unflushedCount('usage')).toBe(500)

  await stop(child)
  expect(await child.exited).toBe(0)
  expect(groupAlive(child)).toBe(false)
  expect(child.output().match(/"msg":"stopping the conductor"/g)).toHaveLength(1)
  expect(child.output()).toContain('"msg":"conductor stopped"')
  // Read back from PostgreSQL: the write accepted before the signal was flushed on the way out.
  expect((await harness.storedRows()).size).toBe(500)
  expect(await harness.buffer.unflushedCount('usage')).toBe(0)
})

test('npm run agent, stopped by Ctrl+C: exit 0, no process left', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const host = harness.key('ctrl-c')
  child = runNpm('agent', { REDIS_URL: TEST_REDIS_URL, CONDUCTOR_PREFIX: harness.prefix, AGENT_USAGE_INTERVAL_S: '0.2' }, ['--host', host])
  await waitFor(async () => (await harness!.prisma.device.count({ where: { hostname: host } })) === 1, 'the agent’s host in PostgreSQL', 60_000)
  process.kill(-child.process.pid!, 'SIGINT')
  expect(await child.exited).toBe(0)
  expect(groupAlive(child)).toBe(false)
  expect(child.output().match(/"msg":"stopping the agent"/g)).toHaveLength(1)
})
