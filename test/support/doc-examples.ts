// The examples of the README and docs/*.md, as docs/README.md ("Examples are tests") describes them:
// fenced blocks of a shell or TypeScript, each after a marker comment saying what a test does with it.

/** What a marker asks for. */
export type ExampleMarker =
  | { kind: 'conductor' }
  | { kind: 'background' }
  | { kind: 'run'; exit: number }
  | { kind: 'compose' }
  | { kind: 'not run'; reason: string }

export interface Example {
  file: string
  /** 1-based line of the opening fence. */
  line: number
  language: string
  code: string
  /** Undefined when the block has no marker, or a marker the convention does not know (see `problem`). */
  marker?: ExampleMarker
  problem?: string
  /** The lines of the `<!-- output -->` block after it, if any. */
  output?: string[]
}

/** Fenced languages that are examples; every block in one of them needs a marker. */
export const EXAMPLE_LANGUAGES = ['bash', 'sh', 'shell', 'console', 'ts', 'typescript', 'js', 'javascript']
export const SHELL_LANGUAGES = ['bash', 'sh', 'shell']
export const TYPESCRIPT_LANGUAGES = ['ts', 'typescript']

const MARKER = /^<!--\s*example:\s*(.*?)\s*-->$/
const OUTPUT_MARKER = /^<!--\s*output\s*-->$/

function parseMarker(text: string): ExampleMarker | string {
  if (text === 'conductor' || text === 'background' || text === 'compose') return { kind: text }
  if (text === 'run') return { kind: 'run', exit: 0 }
  const exit = /^run,\s*exit\s+(\d+)$/.exec(text)
  if (exit) return { kind: 'run', exit: Number(exit[1]) }
  const notRun = /^not run:\s*(.+)$/.exec(text)
  if (notRun) return { kind: 'not run', reason: notRun[1]! }
  return `unknown marker "example: ${text}"; expected conductor, background, run, "run, exit N", compose or "not run: <reason>"`
}

/** Every fenced example of one Markdown file, with its marker and expected output. */
export function parseExamples(file: string, text: string): Example[] {
  const lines = text.split('\n')
  const examples: Example[] = []
  let previous: Example | undefined // the example whose fence closed last, for an output block after it
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```\s*([\w-]*)\s*$/.exec(lines[index]!)
    if (!fence) continue
    const language = fence[1]!.toLowerCase()
    const close = lines.findIndex((line, at) => at > index && /^```\s*$/.test(line))
    if (close < 0) throw new Error(`${file}:${index + 1}: a fence that never closes`)
    const body = lines.slice(index + 1, close)
    const before =
      lines
        .slice(0, index)
        .reverse()
        .find((line) => line.trim() !== '')
        ?.trim() ?? ''
    if (OUTPUT_MARKER.test(before)) {
      if (!previous) throw new Error(`${file}:${index + 1}: an output block that follows no example`)
      previous.output = body
      previous = undefined
    } else if (EXAMPLE_LANGUAGES.includes(language)) {
      const example: Example = { file, line: index + 1, language, code: body.join('\n') }
      const marker = MARKER.exec(before)
      const parsed = marker ? parseMarker(marker[1]!) : 'no marker: put <!-- example: ... --> on the line before the fence'
      if (typeof parsed === 'string') example.problem = parsed
      else example.marker = parsed
      examples.push(example)
      previous = example
    } else {
      previous = undefined
    }
    index = close
  }
  return examples
}

/**
 * The first expected line the output lacks, or undefined when every one appears, in order, as a whole
 * line (trailing blanks aside), `...` standing for any text.
 */
export function missingOutputLine(expected: string[], actual: string): string | undefined {
  const actualLines = actual.split('\n').map((line) => line.trimEnd())
  let at = 0
  for (const line of expected) {
    const pattern = new RegExp(`^${line.trimEnd().split('...').map(escapeRegExp).join('.*')}$`)
    const found = actualLines.findIndex((candidate, index) => index >= at && pattern.test(candidate))
    if (found < 0) return line
    at = found + 1
  }
  return undefined
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The example as the test runs it: its conductor's address for 127.0.0.1:6666, and names of its own for
 * the hosts (compute-N) and device profiles (fpga-dpN), so that runs never share a row.
 */
export function localise(text: string, { port, namePrefix }: { port: number; namePrefix: string }): string {
  return text
    .replaceAll('127.0.0.1:6666', `127.0.0.1:${port}`)
    .replaceAll('localhost:6666', `localhost:${port}`)
    .replace(/(?<![\w-])(compute-\d+|fpga-dp\d+)(?!\d)/g, `${namePrefix}-$1`)
}

/** The `docker-compose ... config -q` that checks a `docker compose [global options] up [options]` line. */
export function composeCheck(line: string): string[] {
  const words = line.trim().split(/\s+/)
  const up = words.indexOf('up')
  if (words[0] !== 'docker' || words[1] !== 'compose' || up < 0)
    throw new Error(`a compose example holds "docker compose ... up" lines only, not ${JSON.stringify(line)}`)
  return ['-f', 'docker-compose.yml', ...words.slice(2, up), 'config', '-q']
}
