import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onFreePort } from './free-port.ts'

/**
 * A redis-server of the fault suite's own, with AOF (`appendfsync everysec`, as docker-compose runs
 * it), in a temporary directory on a free loopback port. `restart` brings it back on the same port
 * from the same AOF.
 */
export class PrivateRedis {
  private server: ChildProcess | undefined

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'cyborg-faults-redis-'))
    return onFreePort(async (port) => {
      const redis = new PrivateRedis(dir, port)
      await redis.launch()
      return redis
    })
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
    const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.server = server
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        server.kill('SIGKILL')
        reject(new Error(`redis-server on port ${this.port} not ready after 30 s: ${output.slice(-500)}`))
      }, 30_000)
      server.stdout.on('data', (chunk) => {
        output += chunk
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      server.stderr.on('data', (chunk) => (output += chunk))
      server.once('exit', () => {
        clearTimeout(timer)
        reject(new Error(`redis-server on port ${this.port} exited: ${output.slice(-500)}`))
      })
    })
  }

  /** SIGTERM (Redis writes its AOF and exits), then a new server on the same port and directory. */
  async restart(): Promise<void> {
    await this.shutdown()
    await this.launch()
  }

  private async shutdown(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server || server.exitCode !== null || server.signalCode !== null) return
    const exit = once(server, 'exit')
    server.kill('SIGTERM')
    await exit
  }

  async destroy(): Promise<void> {
    await this.shutdown()
    await rm(this.dir, { recursive: true, force: true })
  }
}
