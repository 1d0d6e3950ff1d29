import { expect, test } from 'vitest'
import { composeCheck, localise, missingOutputLine, parseExamples } from '../support/doc-examples.ts'

const markdown = [
  '# A page',
  '<!-- example: run -->',
  '```bash',
  'echo one',
  '```',
  '<!-- output -->',
  '```text',
  'one',
  '```',
  '<!-- example: run, exit 3 -->',
  '```sh',
  'exit 3',
  '```',
  '```bash',
  'echo unmarked',
  '```',
  '<!-- example: not run: needs a Docker engine -->',
  '```bash',
  'docker compose up -d',
  '```',
  '<!-- example: sometimes -->',
  '```ts',
  'console.log(1)',
  '```',
  '```',
  'a diagram, not an example',
  '```',
].join('\n')

test('parseExamples finds every shell and TypeScript block with its marker, output and line', () => {
  const examples = parseExamples('page.md', markdown)
  expect(examples.map(({ line, language, marker, output }) => ({ line, language, marker, output }))).toEqual([
    { line: 3, language: 'bash', marker: { kind: 'run', exit: 0 }, output: ['one'] },
    { line: 11, language: 'sh', marker: { kind: 'run', exit: 3 }, output: undefined },
    { line: 14, language: 'bash', marker: undefined, output: undefined },
    { line: 18, language: 'bash', marker: { kind: 'not run', reason: 'needs a Docker engine' }, output: undefined },
    { line: 22, language: 'ts', marker: undefined, output: undefined },
  ])
  expect(examples[2]!.problem).toMatch(/^no marker/)
  expect(examples[4]!.problem).toMatch(/^unknown marker "example: sometimes"/)
})

test('an output block must follow an example', () => {
  expect(() => parseExamples('page.md', '<!-- output -->\n```text\nx\n```')).toThrow('page.md:2: an output block that follows no example')
})

test('missingOutputLine wants each expected line, in order, as a whole line, with ... for any text', () => {
  const actual = '> npm noise\n{"state":"Bound","id":"42"}  \ndone\n'
  expect(missingOutputLine(['{"state":"Bound","id":"..."}', 'done'], actual)).toBeUndefined()
  expect(missingOutputLine(['done', '{"state":"Bound",...}'], actual)).toBe('{"state":"Bound",...}')
  expect(missingOutputLine(['Bound'], actual)).toBe('Bound')
  expect(missingOutputLine(['{"state":"Unbound",...}'], actual)).toBe('{"state":"Unbound",...}')
})

test("localise points an example at the test's conductor and gives its hosts and profiles names of their own", () => {
  const text = "curl 127.0.0.1:6666/v2 localhost:6666 compute-1 compute-1_FakeDevice fpga-dp2 'compute-12' xcompute-1"
  expect(localise(text, { port: 4321, namePrefix: 't-1' })).toBe(
    "curl 127.0.0.1:4321/v2 localhost:4321 t-1-compute-1 t-1-compute-1_FakeDevice t-1-fpga-dp2 't-1-compute-12' xcompute-1",
  )
})

test('composeCheck turns "docker compose ... up" into "docker-compose ... config -q"', () => {
  expect(composeCheck('docker compose --profile cluster up -d')).toEqual(['-f', 'docker-compose.yml', '--profile', 'cluster', 'config', '-q'])
  expect(() => composeCheck('docker compose logs')).toThrow(/"docker compose \.\.\. up" lines only/)
})
