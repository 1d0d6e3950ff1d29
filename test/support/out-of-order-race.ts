import { expect } from 'vitest'
import { WRITE_BATCH_JOB, WRITE_JOB } from '../../src/queues/contract/names.ts'
import { shuffled, type Harness } from './harness.ts'

/**
 * Writes versions 1..`versions` of each key in shuffled order, half as single `write` jobs and half as
 * small batches, all racing each other and the flushes; while the race runs, checks that the version
 * Redis serves for a key only ever moves forward. Resolves when every job is done and flushed, to the
 * number of writes sent.
 */
export async function raceOutOfOrder(harness: Harness, keys: string[], versions: number, seed: number): Promise<number> {
  const writes = shuffled(
    keys.flatMap((key) => Array.from({ length: versions }, (_, i) => ({ entity: 'usage', key, version: i + 1, value: { version: i + 1 } }))),
    seed,
  )
  const jobs = []
  for (let i = 0; i < writes.length; i += 10) {
    const chunk = writes.slice(i, i + 10)
    if ((i / 10) % 2 === 0) jobs.push(...chunk.map((data) => ({ name: WRITE_JOB, data })))
    else jobs.push({ name: WRITE_BATCH_JOB, data: { writes: chunk } })
  }
  const adding = harness.writeQueue.addBulk(jobs)

  const seen = new Map<string, number>()
  let done = false
  void adding.then(() => harness.waitForJobsDone(harness.writeQueue, 'the write jobs')).finally(() => (done = true))
  while (!done) {
    for (const key of keys) {
      const read = await harness.cache.read('usage', key)
      if (!read) continue
      expect(read.version).toBeGreaterThanOrEqual(seen.get(key) ?? 0)
      expect(read.value).toEqual({ version: read.version })
      seen.set(key, read.version)
    }
  }
  await harness.waitForFlushed()
  return writes.length
}
