import { afterEach, expect, test } from 'vitest'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

async function refusal(extra: Record<string, string>): Promise<string> {
  const conductor = rig!.startConductor(extra)
  await conductor.exited()
  expect(conductor.running).toBe(false)
  return conductor.output()
}

test('start-up reads Redis persistence and eviction: an evicting maxmemory-policy or DURABILITY=strict without appendfsync always stops it; /readyz and /metrics show the mode', async () => {
  rig = await startRig({})
  expect(await refusal({ DURABILITY: 'strict' })).toContain(
    'cannot start the conductor: DURABILITY=strict needs every write fsynced before Redis answers (appendonly yes, appendfsync always); appendonly yes, appendfsync everysec.',
  )
  const redis = rig.redisConnection
  await redis.config('SET', 'maxmemory-policy', 'allkeys-lru')
  expect(await refusal({})).toContain(
    'cannot start the conductor: Redis evicts keys (maxmemory-policy allkeys-lru): it could drop accepted writes or whole queues.',
  )
  await redis.config('SET', 'maxmemory-policy', 'noeviction')

  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()
  expect(ready.checks.durability).toBe('default: the writes acknowledged in the last 1 s, up to 2 s while fsync is slow (appendfsync everysec)')
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('cyborg_redis_durability{mode="default",appendfsync="everysec"} 1')
  expect(await conductor.terminate()).toBe(0)

  await redis.config('SET', 'appendfsync', 'always')
  const strict = rig.startConductor({ DURABILITY: 'strict' })
  const strictPort = await strict.ready()
  expect((await (await fetch(`http://127.0.0.1:${strictPort}/readyz`)).json()).checks.durability).toBe(
    'strict: none: every write is fsynced before it is acknowledged',
  )
  expect(await strict.terminate()).toBe(0)
})

test('a managed Redis without CONFIG: the settings come from INFO, an unknown appendfsync is stated, and DURABILITY=strict refuses to start', async () => {
  rig = await startRig({}, { redis: { extra: ['--rename-command', 'CONFIG', ''] } })
  expect(await refusal({ DURABILITY: 'strict' })).toContain('CONFIG is disabled, so appendfsync cannot be checked')
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  expect((await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).checks.durability).toBe(
    'default: unknown: Redis does not say how it persists (CONFIG disabled); ask its operator',
  )
  expect(await conductor.terminate()).toBe(0)
})
