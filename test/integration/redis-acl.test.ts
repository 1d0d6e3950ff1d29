import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterEach, expect, test } from 'vitest'
import { DummyDriver } from '../../src/drivers/dummy/dummy-driver.ts'
import { ConductorClient, writeLimitsOf } from '../../src/queues/client/conductor-client.ts'
import { COMMAND_QUEUE, FLUSH_QUEUE, READ_QUEUE } from '../../src/queues/contract/names.ts'
import { agentAclRules } from '../../src/redis/agent-acl.ts'
import { entityKeys, flushRunsKey } from '../../src/buffer/keys.ts'
import { startHarness, type Harness } from '../support/harness.ts'

let harness: Harness | undefined
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await harness?.close()
})

const NOPERM = /NOPERM/
/** A refusal inside a script: Redis checks each call a script makes against the user too. */
const REFUSED_IN_SCRIPT = /^ERR The user executing the script can't (run this command|access at least one of the keys)/

/** A Redis user made of agentAclRules for the harness's prefix, on the shared Redis, deleted after the test; and a connection as it. */
async function agentUser(h: Harness) {
  const user = `cyborg-agent-${randomBytes(6).toString('hex')}`
  const password = randomBytes(16).toString('hex')
  await h.redis.call('ACL', 'SETUSER', user, ...agentAclRules(h.prefix))
  await h.redis.call('ACL', 'SETUSER', user, `>${password}`)
  cleanups.push(() => h.redis.call('ACL', 'DELUSER', user))
  const connection = new Redis(h.config.REDIS_URL, { username: user, password, maxRetriesPerRequest: null })
  cleanups.push(async () => connection.disconnect())
  return connection
}

test('the agents Redis ACL user reports usage and inventory through BullMQ, and is refused everything else', async () => {
  harness = await startHarness()
  const h = harness
  const connection = await agentUser(h)

  // The producer client, as the agent runs it (with the intake checks: the write queue's depth).
  const client = new ConductorClient({ connection, prefix: h.prefix, readTimeoutMs: 1000, writeLimits: writeLimitsOf(h.config) })
  cleanups.push(() => client.close())
  const hostname = h.key('acl-host')
  const devices = await new DummyDriver({ hostname }).discover()
  // Two snapshots within the report's delay: the second replaces the first (deduplication by host).
  const replaced = await client.reportInventory({ hostname, version: Date.now(), devices: [] })
  const inventory = await client.reportInventory({ hostname, version: Date.now() + 1, devices })
  expect(await h.outcome(h.inventoryQueue, inventory)).toMatchObject({ returnvalue: { applied: true, added: expect.any(Number) } })
  expect(await h.inventoryQueue.getJobState(replaced)).toBe('unknown')
  const key = h.key('acl-usage')
  const write = await client.castBatch([{ entity: 'usage', key, version: Date.now(), value: { accelerators_in_use: 2 } }])
  expect(await h.outcome(h.writeQueue, write)).toEqual({ returnvalue: { accepted: 1, stale: 0 } })

  // In its own queues it adds, never removes nor pauses: an acknowledged write stays.
  const writes = `${h.prefix}:conductor-writes`
  await expect(connection.del(`${writes}:wait`)).rejects.toThrow(NOPERM)
  await expect(connection.rpop(`${writes}:wait`)).rejects.toThrow(NOPERM)
  await expect(connection.del(`${writes}:${write}`)).rejects.toThrow(NOPERM)
  await expect(connection.hset(`${writes}:meta`, 'paused', '1')).rejects.toThrow(NOPERM)
  await expect(connection.eval("return redis.call('del', KEYS[1])", 1, `${writes}:wait`)).rejects.toThrow(
    /The user executing the script can't access at least one of the keys/,
  )
  const ownQueue = new Queue('conductor-writes', { connection, prefix: h.prefix, skipMetasUpdate: true })
  cleanups.push(() => ownQueue.close())
  await expect(ownQueue.pause()).rejects.toThrow(REFUSED_IN_SCRIPT)
  await expect(ownQueue.drain()).rejects.toThrow(REFUSED_IN_SCRIPT)

  // The buffer, the caches, the flush records: no key outside the two queues.
  const buffer = entityKeys(h.prefix, 'usage', 0)
  await expect(connection.hget(buffer.pendingVersions, key)).rejects.toThrow(NOPERM)
  await expect(connection.hset(buffer.pendingValues, key, '{}')).rejects.toThrow(NOPERM)
  await expect(connection.hgetall(buffer.cacheValues)).rejects.toThrow(NOPERM)
  await expect(connection.hgetall(`${h.prefix}:{conductor:inventory}:hosts`)).rejects.toThrow(NOPERM)
  await expect(connection.del(flushRunsKey(h.prefix))).rejects.toThrow(NOPERM)
  // Nor through a script that names an allowed key and reaches another: Redis checks a script's calls against the user too.
  const allowedKey = `${h.prefix}:conductor-writes:id`
  await expect(connection.eval("return redis.call('hget', ARGV[1], ARGV[2])", 1, allowedKey, buffer.cacheValues, key)).rejects.toThrow(
    /The user executing the script can't access at least one of the keys/,
  )
  await expect(connection.eval("return redis.call('hgetall', KEYS[1])", 1, allowedKey)).rejects.toThrow(/The user executing the script can't run this command/)
  await expect(connection.flushall()).rejects.toThrow(NOPERM)
  await expect(connection.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')).rejects.toThrow(NOPERM)

  // The command queue, the other queues, the flush job schedulers.
  for (const name of [COMMAND_QUEUE, READ_QUEUE, FLUSH_QUEUE]) {
    const queue = new Queue(name, { connection, prefix: h.prefix })
    cleanups.push(() => queue.close())
    await expect(queue.add('arq.list', {}), name).rejects.toThrow(NOPERM)
  }
  const flush = new Queue(FLUSH_QUEUE, { connection, prefix: h.prefix })
  cleanups.push(() => flush.close())
  await expect(flush.removeJobScheduler('flush:usage:0')).rejects.toThrow(NOPERM)
  await expect(connection.del(`${h.prefix}:${FLUSH_QUEUE}:repeat`)).rejects.toThrow(NOPERM)
  expect((await h.flushQueue.getJobSchedulers()).map((scheduler) => scheduler.key)).toContain('flush:usage:0')
})
