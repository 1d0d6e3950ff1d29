import { runEntry, type Child } from '../../support/child.ts'
import { waitFor } from '../../support/wait-for.ts'

/** One line of the conductor's pino log. */
export interface LogEntry {
  level: number
  msg: string
  [field: string]: unknown
}

const WARN = 40

/** A conductor (`src/server.ts`) in a child process, as production runs it, for the suite to kill. */
export class ConductorProcess {
  private constructor(private readonly child: Child) {}

  /** Starts one on `env` (REDIS_URL, DATABASE_URL, CONDUCTOR_PREFIX, ...), its HTTP API on a free port. */
  static start(env: Record<string, string>): ConductorProcess {
    return new ConductorProcess(runEntry('dist/server.js', { PORT: '0', ...env }))
  }

  get pid(): number {
    return this.child.process.pid!
  }

  get running(): boolean {
    return this.child.process.exitCode === null && this.child.process.signalCode === null
  }

  /** Resolves to the HTTP port once the API listens and the workers take jobs (the port is bound first). */
  async ready(timeoutMs = 30_000): Promise<number> {
    const listening = await waitFor(
      () => {
        if (!this.running) throw new Error(`the conductor exited before it started:\n${this.child.output().slice(-2000)}`)
        const output = this.child.output()
        return (output.includes('"conductor started"') && /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)) || undefined
      },
      'the conductor to listen and start its workers',
      timeoutMs,
    )
    return Number(listening[1])
  }

  /** kill -9; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.child.process.kill('SIGKILL')
    await this.child.exited
  }

  /** SIGTERM; resolves to the exit code. */
  async terminate(): Promise<number | null> {
    this.child.process.kill('SIGTERM')
    return this.child.exited
  }

  /** Resolves to the signal that ended the process (null for an exit). */
  async exited(): Promise<NodeJS.Signals | null> {
    await this.child.exited
    return this.child.process.signalCode
  }

  output(): string {
    return this.child.output()
  }

  logs(): LogEntry[] {
    return this.child
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogEntry)
  }

  /** Warnings and errors other than `expected` ones, for a test to show when it fails. */
  problems(expected: RegExp): LogEntry[] {
    return this.logs().filter((entry) => entry.level >= WARN && !expected.test(entry.msg))
  }
}
