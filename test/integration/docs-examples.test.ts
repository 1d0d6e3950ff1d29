import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runEntry, type Child } from '../support/child.ts'
import { composeCheck, localise, missingOutputLine, parseExamples, SHELL_LANGUAGES, TYPESCRIPT_LANGUAGES, type Example } from '../support/doc-examples.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services.ts'
import { waitFor } from '../support/wait-for.ts'

// Every example of the README and docs/*.md runs here, against a real conductor process and real
// Redis and PostgreSQL, as docs/README.md ("Examples are tests") describes: none can rot unnoticed.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
]
const documents = FILES.map((file) => ({ file, examples: parseExamples(file, readFileSync(join(ROOT, file), 'utf8')) }))
const EXAMPLE_TIMEOUT_MS = 50_000

let harness: Harness
let conductor: Child
let port: number
let baseEnv: NodeJS.ProcessEnv
const background: { name: string; process: ChildProcess; output: () => string; exited: Promise<number | null> }[] = []

/** The API_TOKENS the conductor examples export; every one must give the same, which the test's conductor gets. */
function conductorTokens(): string {
  const settings = new Set(
    documents.flatMap(({ examples }) =>
      examples.filter((example) => example.marker?.kind === 'conductor').map((example) => /^export API_TOKENS='([^']+)'$/m.exec(example.code)?.[1]),
    ),
  )
  const [tokens, ...others] = settings
  if (tokens === undefined || others.length > 0)
    throw new Error(`expected one API_TOKENS setting in the conductor examples, found ${JSON.stringify([...settings])}`)
  return tokens
}

beforeAll(async () => {
  harness = await startHarness({}, { start: false })
  baseEnv = { ...process.env, REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL, CONDUCTOR_PREFIX: harness.prefix }
  conductor = runEntry('dist/server.js', {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    CONDUCTOR_PREFIX: harness.prefix,
    API_TOKENS: conductorTokens(),
    PORT: '0',
  })
  port = Number(await waitFor(() => /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(conductor.output())?.[1], 'the conductor to listen'))
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the conductor to be ready')
})

afterAll(async () => {
  for (const each of background) if (each.process.exitCode === null && each.process.signalCode === null) killGroup(each.process, 'SIGKILL')
  conductor?.process.kill('SIGTERM')
  await conductor?.exited
  await harness?.close()
})

/** Signals every process an example started (its bash is the leader of their group), if any is left. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

interface Finished {
  code: number | null
  output: string
}

/** Runs a command to its end (killing its process group past the deadline), with stdout and stderr together. */
function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const deadline = setTimeout(() => killGroup(child, 'SIGKILL'), EXAMPLE_TIMEOUT_MS)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(deadline)
      resolve({ code, output: signal ? `${output}\n(killed by ${signal} after ${EXAMPLE_TIMEOUT_MS} ms)` : output })
    })
  })
}

/**
 * A shell example as one `bash -euo pipefail` script: the variables earlier examples of its file set
 * are read back first, and the ones it sets are saved for the next (as one terminal would keep them).
 */
function shellScript(code: string, stateFile: string, baselineFile: string): string {
  return [
    'set -euo pipefail',
    `if [ -f '${stateFile}' ]; then source '${stateFile}'; fi`,
    code,
    `__docs_vars=$(compgen -v | grep -vxF -f '${baselineFile}' | grep -v '^__docs_' || true)`,
    `if [ -n "$__docs_vars" ]; then declare -p $__docs_vars > '${stateFile}'; fi`,
  ].join('\n')
}

test('every example of README.md and docs/*.md carries a marker docs/README.md defines, and a reason when it is not run', () => {
  const problems = documents.flatMap(({ examples }) =>
    examples.filter((example) => example.problem).map((example) => `${example.file}:${example.line}: ${example.problem}`),
  )
  expect(problems).toEqual([])
  const unexplained = documents.flatMap(({ examples }) =>
    examples.filter((example) => example.marker?.kind === 'not run' && example.marker.reason.length < 20).map((example) => `${example.file}:${example.line}`),
  )
  expect(unexplained).toEqual([])
  const silent = documents.flatMap(({ examples }) =>
    examples.filter((example) => example.marker?.kind === 'background' && !example.output?.length).map((example) => `${example.file}:${example.line}`),
  )
  expect(silent, 'a background example shows, in an output block, what it prints once it is up').toEqual([])
})

test("the README's end-to-end example is among the examples that run: an agent, devices, a device profile, an ARQ bound to a deployable's rp_uuid, usage", () => {
  const readme = documents.find(({ file }) => file === 'README.md')!.examples
  const code = (kind: string) =>
    readme
      .filter((example) => example.marker?.kind === kind)
      .map((example) => example.code)
      .join('\n')
  expect(code('conductor')).toMatch(/^export API_TOKENS='/m)
  expect(code('background')).toContain('npm run agent -- --host compute-1')
  for (const step of ['/v2/devices', '/v2/device_profiles', '/v2/accelerator_requests', '/v2/deployables', 'rp_uuid', 'PATCH', '/conductor/entities/usage/']) {
    expect(code('run'), step).toContain(step)
  }
})

documents.forEach(({ file, examples }, documentIndex) => {
  const runnable = examples.filter((example) => example.marker && example.marker.kind !== 'not run')
  if (runnable.length === 0) return
  describe(file, () => {
    let state: string
    const started: typeof background = []
    beforeAll(() => {
      state = mkdtempSync(join(tmpdir(), 'docs-examples-'))
    })
    afterAll(() => rmSync(state, { recursive: true, force: true }))
    const local = (text: string) => localise(text, { port, namePrefix: `${harness.prefix}-${documentIndex}` })

    for (const example of runnable) {
      const name = `${file}:${example.line} (${example.marker!.kind})`
      test(name, async () => {
        const marker = example.marker!
        if (marker.kind === 'conductor') {
          // Started in beforeAll with this example's API_TOKENS: every token of it is accepted.
          for (const entry of conductorTokens().split(',')) {
            const response = await fetch(`http://127.0.0.1:${port}/conductor/entities/usage/none`, {
              headers: { authorization: `Bearer ${entry.split(':')[0]}` },
            })
            expect(response.status === 401, `${entry.split(':')[1]} token accepted`).toBe(false)
          }
        } else if (marker.kind === 'compose') {
          for (const line of example.code.split('\n').filter((text) => text.trim() !== '' && !text.trim().startsWith('#'))) {
            const result = await runToEnd('docker-compose', composeCheck(line), baseEnv).catch((error: Error) => {
              throw new Error(`docker-compose checks the compose examples; install it (Debian: apt-get install docker-compose): ${error.message}`)
            })
            expect(result.code, `${line}\n${result.output}`).toBe(0)
          }
        } else if (marker.kind === 'background') {
          expect(SHELL_LANGUAGES).toContain(example.language)
          const child = spawn('bash', ['-c', local(example.code)], { cwd: ROOT, env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
          let output = ''
          child.stdout.on('data', (chunk) => (output += chunk))
          child.stderr.on('data', (chunk) => (output += chunk))
          const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
          const closed = new Promise((resolve) => child.on('close', resolve))
          await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject))
          const entry = { name, process: child, output: () => output, exited }
          background.push(entry)
          started.push(entry)
          // Up once it has printed its output block; exiting first is a failure.
          const expected = (example.output ?? []).map(local)
          const outcome = await waitFor(
            () => (child.exitCode !== null ? 'exited' : missingOutputLine(expected, output) === undefined && 'up'),
            `${name} to be up`,
          )
          if (outcome !== 'up') await closed // all of its output, for the message
          expect(outcome, `${name} exited with ${child.exitCode} before it was up:\n${output}`).toBe('up')
        } else if (marker.kind === 'run') {
          const result = await run(example, local, state)
          expect(result.code, `${result.output}\n--- the conductor's log, last lines:\n${conductor.output().slice(-3000)}`).toBe(marker.exit)
          const missing = missingOutputLine((example.output ?? []).map(local), result.output)
          expect(missing, `expected the line ${JSON.stringify(missing)} in:\n${result.output}`).toBeUndefined()
        }
      })
    }

    if (runnable.some((example) => example.marker!.kind === 'background')) {
      test(`${file}: its background examples ran until its last example, and stop on SIGTERM`, async () => {
        for (const each of started) {
          expect(each.process.exitCode, `${each.name} exited early:\n${each.output()}`).toBeNull()
          killGroup(each.process, 'SIGTERM')
          await waitFor(() => each.process.exitCode !== null || each.process.signalCode !== null, `${each.name} to stop`, 15_000)
        }
      })
    }
  })
})

async function run(example: Example, local: (text: string) => string, state: string): Promise<Finished> {
  if (SHELL_LANGUAGES.includes(example.language)) {
    const baseline = join(state, 'baseline')
    // The variables a fresh shell already has (the environment, bash's own) are not an example's state.
    const fresh = await runToEnd('bash', ['-c', 'compgen -v'], baseEnv)
    writeFileSync(baseline, fresh.output)
    return runToEnd('bash', ['-c', shellScript(local(example.code), join(state, 'variables'), baseline)], baseEnv)
  }
  if (TYPESCRIPT_LANGUAGES.includes(example.language)) {
    // In the repository's root, so that its imports (./src/...) resolve as the reader's would.
    const script = join(ROOT, `.docs-example-${harness.prefix}-${example.line}.ts`)
    writeFileSync(script, local(example.code))
    try {
      return await runToEnd(process.execPath, ['--import', 'tsx', script], baseEnv)
    } finally {
      rmSync(script, { force: true })
    }
  }
  throw new Error(`${example.file}:${example.line}: a ${example.language} example cannot be run; mark it "not run: <reason>"`)
}
