import fc from 'fast-check'
import { afterEach, expect, test } from 'vitest'
import { oversizedValue, writeBatchSchema } from '../../src/queues/contract/writes.ts'
import { WRITE_BATCH_JOB, WRITE_JOB } from '../../src/queues/contract/names.ts'
import { faultOf } from '../support/api.ts'
import { waitFor } from '../support/wait-for.ts'
import { reportFigures } from './support/figures.ts'
import { finishedJobs } from './support/finished-jobs.ts'
import { malformedWrite, type MalformedWrite } from './support/malformed.ts'
import { startRig, type Rig } from './support/rig.ts'

let rig: Rig | undefined
afterEach(() => rig?.close())

const SEED = 20_261_125
const POISON_JOBS = 10_000
const HTTP_BODIES = 1000
// A small limit, so values "huge" for it are cheap to generate by the thousand.
const VALUE_MAX_BYTES = 4096
const VALID_KEYS = 200
// Every job kept, so each outcome can be checked.
const KEEP = { removeOnComplete: false, removeOnFail: false }

/** What a job must end with: failed with a reason like this, or completed listing exactly these invalid entries. */
type Expected = { failedReason: RegExp } | { invalid: MalformedWrite[] | (MalformedWrite | null)[] }

interface PoisonJob {
  name: string
  data: unknown
  expected: Expected
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** The start of a reason about `field` of the write at `path`: `version: `, `writes.3.key: `, `writes.0: `. */
const reasonAbout = (path: string[], field: string) => `${escaped([...path, ...(field ? [field] : [])].join('.') || '(data)')}: \\S`

test('10,000 generated malformed jobs and 1,000 HTTP bodies each fail with a clear reason; no worker crashes; valid writes around them are unaffected', async () => {
  rig = await startRig({ WRITE_VALUE_MAX_BYTES: String(VALUE_MAX_BYTES) })
  const conductor = rig.startConductor()
  const port = await conductor.ready()
  const { prefix } = rig
  const write = malformedWrite((index) => `${prefix}-m${index}`, VALUE_MAX_BYTES)
  const validWrite = fc
    .record({ key: fc.nat(VALID_KEYS - 1), version: fc.nat() })
    .map(({ key, version }) => ({ entity: 'usage', key: `${prefix}-v${key}`, version, value: { version } }))
  const otherName = fc.string({ minLength: 1, maxLength: 20 }).filter((name) => name !== WRITE_JOB && name !== WRITE_BATCH_JOB)
  const poisonJob: fc.Arbitrary<PoisonJob> = fc.oneof(
    {
      weight: 5,
      arbitrary: write.map(({ data, field }) => ({
        name: WRITE_JOB,
        data,
        expected: { failedReason: new RegExp(`^invalid write: ${reasonAbout([], field)}`) },
      })),
    },
    {
      weight: 2,
      arbitrary: fc.array(write, { minLength: 1, maxLength: 5 }).map((writes) => ({
        name: WRITE_BATCH_JOB,
        data: { writes: writes.map((entry) => entry.data) },
        expected: {
          failedReason: new RegExp(`^invalid write-batch: none of its ${writes.length} writes is valid: ${reasonAbout(['writes', '0'], writes[0]!.field)}`),
        },
      })),
    },
    {
      weight: 2,
      // Malformed entries among valid ones: the batch completes, listing exactly the malformed ones.
      arbitrary: fc
        .array(
          fc.oneof(
            write,
            validWrite.map((valid) => ({ valid })),
          ),
          { minLength: 2, maxLength: 6 },
        )
        .filter((entries) => entries.some((entry) => 'valid' in entry) && entries.some((entry) => 'field' in entry))
        .map((entries) => ({
          name: WRITE_BATCH_JOB,
          data: { writes: entries.map((entry) => ('valid' in entry ? entry.valid : entry.data)) },
          expected: { invalid: entries.map((entry) => ('valid' in entry ? null : entry)) },
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc
            .jsonValue({ maxDepth: 2 })
            .map((writes) => ({ writes }))
            .filter(({ writes }) => !Array.isArray(writes)),
          fc.constant({ writes: [] }),
          fc.constant({ writes: Array.from({ length: 10_001 }, (_, i) => ({ entity: 'usage', key: `${prefix}-m${i}`, version: 1, value: {} })) }),
          fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        )
        .map((data) => ({ name: WRITE_BATCH_JOB, data, expected: { failedReason: /^invalid write-batch: (writes|\(data\)): \S/ } })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(otherName, validWrite).map(([name, data]) => ({
        name,
        data,
        expected: { failedReason: /^unknown job name ".*" on conductor-writes: expected "write" or "write-batch"$/s },
      })),
    },
  )
  const poison = fc.sample(poisonJob, { numRuns: POISON_JOBS, seed: SEED })

  // A valid write after every ten malformed jobs, versions rising: each valid key must end at its highest.
  const jobs: { name: string; data: unknown; expected?: Expected }[] = []
  const expectedVersions = new Map<string, number>()
  const expectValid = (key: string, version: number) => expectedVersions.set(key, Math.max(version, expectedVersions.get(key) ?? -1))
  poison.forEach((job, index) => {
    jobs.push(job)
    if ('invalid' in job.expected) {
      for (const entry of (job.data as { writes: { key: string; version: number }[] }).writes.filter(
        (_, i) => !(job.expected as { invalid: unknown[] }).invalid[i],
      )) {
        expectValid(entry.key, entry.version)
      }
    }
    if (index % 10 === 9) {
      const key = `${prefix}-v${index % VALID_KEYS}`
      const version = 2 ** 40 + index
      jobs.push({ name: WRITE_JOB, data: { entity: 'usage', key, version, value: { version } } })
      expectValid(key, version)
    }
  })
  const ids: string[] = []
  for (let start = 0; start < jobs.length; start += 250) {
    const added = await rig.writeQueue.addBulk(jobs.slice(start, start + 250).map(({ name, data }) => ({ name, data, opts: KEEP })))
    ids.push(...added.map((job) => job.id!))
  }
  await waitFor(
    async () => Object.values(await rig!.writeQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((count) => count === 0),
    'every job to finish',
    180_000,
  )

  const finished = new Map((await finishedJobs(rig.writeQueue)).map((entry) => [entry.job.id!, entry]))
  const mismatches: unknown[] = []
  jobs.forEach(({ name, data, expected }, index) => {
    const outcome = finished.get(ids[index]!)
    const shown = {
      name,
      data: JSON.stringify(data).slice(0, 200),
      state: outcome?.state,
      reason: outcome?.job.failedReason,
      returned: outcome?.job.returnvalue,
    }
    if (!expected) {
      if (outcome?.state !== 'completed') mismatches.push({ valid: true, ...shown })
    } else if ('failedReason' in expected) {
      if (outcome?.state !== 'failed' || !expected.failedReason.test(outcome.job.failedReason))
        mismatches.push({ expected: String(expected.failedReason), ...shown })
    } else {
      const invalid = expected.invalid.flatMap((entry, i) => (entry ? [{ index: i, field: entry.field }] : []))
      const reported = (outcome?.job.returnvalue as { invalid?: { index: number; reason: string }[] } | undefined)?.invalid ?? []
      const matches =
        outcome?.state === 'completed' &&
        reported.length === invalid.length &&
        invalid.every(
          ({ index, field }, i) => reported[i]!.index === index && new RegExp(`^${reasonAbout(['writes', String(index)], field)}`).test(reported[i]!.reason),
        )
      if (!matches) mismatches.push({ expectedInvalid: invalid, ...shown })
    }
  })

  // HTTP: any body at all; the answer is 202 exactly when the contract says the batch is valid, a clear 4xx otherwise.
  let malformedBodies = 0
  const httpBody = fc.oneof(
    fc
      .array(write, { minLength: 1, maxLength: 4 })
      .map((writes) => ({ type: 'application/json', payload: JSON.stringify({ writes: writes.map((entry) => entry.data) }) })),
    fc.jsonValue({ maxDepth: 3 }).map((body) => ({ type: 'application/json', payload: JSON.stringify(body) })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((payload) => ({ type: 'application/json', payload })),
    fc.string({ maxLength: 50 }).map((payload) => ({ type: 'application/xml', payload })),
  )
  await fc.assert(
    fc.asyncProperty(httpBody, async ({ type, payload }) => {
      const expected = expectedStatus(type, payload)
      if (expected !== 202) malformedBodies += 1
      const response = await fetch(`http://127.0.0.1:${port}/conductor/writes`, {
        method: 'POST',
        headers: { 'content-type': type, ...rig!.agentHeaders },
        body: payload,
      })
      const body = (await response.json()) as { jobId?: string }
      expect({ status: response.status, payload }).toEqual({ status: expected, payload })
      if (expected === 202) expect(body.jobId).toMatch(/\S/)
      else expect(faultOf(body)).toMatch(expected === 400 ? /^(body is invalid: \S|the body \S|Body |Unexpected |.*JSON)/ : /\S/)
    }),
    { numRuns: HTTP_BODIES, seed: SEED },
  )

  expect(conductor.running).toBe(true)
  expect(conductor.logs().filter((entry) => entry.level >= 50)).toEqual([])
  await rig.waitForFlushed(30_000)
  const stored = await rig.stored()
  const storedValid = new Map([...stored].filter(([key]) => key.startsWith(`${prefix}-v`)).map(([key, row]) => [key, row.version]))
  const malformedInputs = POISON_JOBS + malformedBodies
  const lost = [...expectedVersions].filter(([key]) => !storedValid.has(key)).length
  const regressed = [...expectedVersions].filter(([key, version]) => (storedValid.get(key) ?? version) < version).length
  reportFigures('poison input', { malformedInputs, keysChecked: expectedVersions.size, lost, regressed })
  expect(mismatches.slice(0, 5)).toEqual([])
  expect(storedValid).toEqual(expectedVersions)
  // No write of a malformed job or entry reached PostgreSQL.
  expect([...stored.keys()].filter((key) => key.startsWith(`${prefix}-m`))).toEqual([])
})

/** 202 for a batch the contract accepts; 415 for a body of a type the API does not read; 400 for anything else. */
function expectedStatus(type: string, payload: string): number {
  if (type !== 'application/json') return 415
  let body: unknown
  try {
    // What the server receives: the text as UTF-8, lone surrogates replaced.
    body = JSON.parse(Buffer.from(payload).toString())
  } catch {
    return 400
  }
  const parsed = writeBatchSchema.safeParse(body)
  // A value over WRITE_VALUE_MAX_BYTES is refused before the 202, never failed in the worker after it.
  if (!parsed.success || parsed.data.writes.some((write) => oversizedValue(JSON.stringify(write.value), VALUE_MAX_BYTES))) return 400
  return 202
}
