// `npx tsx bench/buffer-scripts.ts [lua-dir]`: Redis's own time per write (INFO commandstats) of the write buffer's
// accept, takeBatch and releaseBatch scripts on 5,000 keys, ten rounds; lua-dir (default src/buffer/lua) compares a variant.
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { standaloneConfig } from './standalone-config.ts'

const dir = process.argv[2] ?? 'src/buffer/lua'
const KEYS = 5000
const WRITES_PER_CALL = 88 // what group commit gathered per call in a drain (11 jobs of 8 writes)
const ROUNDS = 10
const prefix = `scripts-${randomBytes(3).toString('hex')}`
const redis = new Redis(standaloneConfig(prefix).REDIS_URL)
const scripts = { accept: 5, takeBatch: 5, releaseBatch: 9 }
for (const [name, keyCount] of Object.entries(scripts))
  redis.defineCommand(name, { numberOfKeys: keyCount, lua: readFileSync(`${dir}/${name}-${keyCount}.lua`, 'utf8') })
const call = (name: keyof typeof scripts, ...args: (string | number)[]) =>
  (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args)
const key = Object.fromEntries(
  [
    'pendingVersions',
    'pendingValues',
    'flushingVersions',
    'flushingValues',
    'lock',
    'stats',
    'deadLetters',
    'backoff',
    'access',
    'cacheVersions',
    'cacheValues',
  ].map((name) => [name, `${prefix}:{buffer}:${name}`]),
) as Record<string, string>
const value = JSON.stringify({ accelerators_in_use: 1, utilization_percent: 48.3, memory_used_mib: 1300, power_w: 45.1, temperature_c: 43.5 })
const redisUs = async () => Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0)
const spent = { 'accept, key not pending': 0, 'accept, key pending': 0, takeBatch: 0, releaseBatch: 0 }
async function measured(figure: keyof typeof spent, run: () => Promise<unknown>) {
  const before = await redisUs()
  await run()
  spent[figure] += (await redisUs()) - before
}
async function acceptEveryKey(version: number, figure: keyof typeof spent) {
  for (let start = 0; start < KEYS; start += WRITES_PER_CALL) {
    const args: (string | number)[] = [1e6]
    for (let i = start; i < Math.min(KEYS, start + WRITES_PER_CALL); i++) args.push(`key-${i}`, version, value, -1)
    await measured(figure, () => call('accept', key.pendingVersions!, key.pendingValues!, key.flushingVersions!, key.cacheVersions!, key.stats!, ...args))
  }
}
for (let round = 1; round <= ROUNDS; round++) {
  await acceptEveryKey(2 * round, 'accept, key not pending')
  await acceptEveryKey(2 * round + 1, 'accept, key pending')
  await measured('takeBatch', () =>
    call('takeBatch', key.pendingVersions!, key.pendingValues!, key.flushingVersions!, key.flushingValues!, key.lock!, 'token', 60_000, KEYS),
  )
  await measured('releaseBatch', () =>
    call(
      'releaseBatch',
      key.flushingVersions!,
      key.flushingValues!,
      key.cacheVersions!,
      key.cacheValues!,
      key.lock!,
      key.stats!,
      key.deadLetters!,
      key.backoff!,
      key.access!,
      'token',
      100,
      KEYS,
      Date.now(),
    ),
  )
}
console.log(
  JSON.stringify({ dir, redisUsPerWrite: Object.fromEntries(Object.entries(spent).map(([figure, us]) => [figure, +(us / ROUNDS / KEYS).toFixed(2)])) }),
)
await redis.del(...Object.values(key))
redis.disconnect()
