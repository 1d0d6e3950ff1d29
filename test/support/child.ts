import { spawn, type ChildProcess } from 'node:child_process'

export interface Child {
  process: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** Runs a TypeScript entry point of the conductor in its own Node.js process. */
export function runEntry(entry: string, env: Record<string, string>, args: string[] = []): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}
