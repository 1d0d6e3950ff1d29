// `npx tsx bench/validators.ts`: the write validators on an agent's real report (8 usage writes), µs per write.
import { performance } from 'node:perf_hooks'
import { DummyDriver } from '../src/drivers/dummy/dummy-driver.ts'
import { deployableUuid } from '../src/queues/contract/name-uuid.ts'
import { WriteValidator } from '../src/queues/contract/write-validator.ts'
import { writeSchema } from '../src/queues/contract/writes.ts'

const ROUNDS = 200_000
const driver = new DummyDriver({ hostname: 'bench-host', devices: 8, seed: 1 })
const writes = (await driver.getStats()).map(({ deployableName, metrics }) => ({
  entity: 'usage',
  key: deployableUuid(deployableName),
  version: Date.now(),
  value: metrics,
}))
const validator = new WriteValidator()

function microsPerWrite(check: (write: unknown) => boolean): number {
  const run = (rounds: number) => {
    for (let round = 0; round < rounds; round++) for (const write of writes) if (!check(write)) throw new Error('a valid write was refused')
  }
  run(ROUNDS / 10) // warm-up: JIT
  const started = performance.now()
  run(ROUNDS)
  return ((performance.now() - started) * 1000) / (ROUNDS * writes.length)
}

// Interleaved, so a change in the machine's load shows in both.
const zod: number[] = []
const compiled: number[] = []
for (let pass = 0; pass < 3; pass++) {
  zod.push(microsPerWrite((write) => writeSchema.safeParse(write).success))
  compiled.push(microsPerWrite((write) => typeof validator.check(write) !== 'string'))
}
const median = (values: number[]) => values.toSorted((a, b) => a - b)[1]!.toFixed(2)
console.log(`zod writeSchema.safeParse: ${median(zod)} µs/write; WriteValidator (ajv + refinements): ${median(compiled)} µs/write (median of 3)`)
