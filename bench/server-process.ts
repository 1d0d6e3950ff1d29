import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../test/support/wait-for.ts'

const SERVER_ENTRY = fileURLToPath(new URL('../src/server.ts', import.meta.url))

/** `src/server.ts`, the conductor process that `npm start` runs compiled, from source (tsx) as a child of the bench. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly exited: Promise<number | null>,
    /** A reader token's Authorization header: the API's reads need one. */
    readonly headers: Record<string, string>,
  ) {}

  /** With `cpuProfileDir`, the child writes a V8 CPU profile of its whole life there when it exits (bench/cpu-profile.ts reads a window of it). */
  static async start(env: Record<string, string>, cpuProfileDir?: string): Promise<ServerProcess> {
    const port = await freePort()
    const token = randomBytes(24).toString('hex')
    const profiling = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
    const child = spawn(process.execPath, [...profiling, '--import', 'tsx', SERVER_ENTRY], {
      // The load comes from one token: its rate limit must not be what is measured.
      env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), API_TOKENS: `${token}:reader:bench`, RATE_LIMIT_MAX: String(2 ** 31 - 1) },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, exited, { authorization: `Bearer ${token}` })
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`src/server.ts exited with ${child.exitCode}`)
        // Ready, not merely alive: the port is bound before the workers start.
        return (await fetch(`${server.url}/readyz`)).ok
      },
      'the conductor server to answer /readyz',
      60_000,
    )
    return server
  }

  /** The process id, to read its CPU time (bench/cpu-meter.ts). */
  get pid(): number {
    return this.child.pid!
  }

  /** SIGTERM: the server flushes what is pending and exits. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM')
    const code = await this.exited
    if (code !== 0) throw new Error(`src/server.ts exited with ${code} on SIGTERM`)
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
