import { spawn, type ChildProcess } from 'node:child_process'

export interface Child {
  process: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/**
 * Runs a compiled entry point of the conductor (`dist/server.js`, `dist/agent/main.js`; the global
 * setup builds dist/) in its own Node.js process, as `npm start` and `npm run agent` do.
 */
export function runEntry(entry: string, env: Record<string, string>, args: string[] = []): Child {
  return runCommand(process.execPath, [entry, ...args], env)
}

/**
 * Runs `npm run <script>` as an operator's terminal does: in a process group of its own (detached),
 * so a test can signal the whole group as Ctrl+C does.
 */
export function runNpm(script: string, env: Record<string, string>, args: string[] = []): Child {
  return runCommand('npm', ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])], env, { detached: true })
}

function runCommand(command: string, args: string[], env: Record<string, string>, options: { detached?: boolean } = {}): Child {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}
