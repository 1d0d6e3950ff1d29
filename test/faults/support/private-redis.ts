import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../../support/wait-for.ts'
import { onFreePort } from './free-port.ts'

/**
 * A redis-server of the fault suite's own, with AOF (`appendfsync everysec`, as docker-compose runs
 * it), in a temporary directory on a free loopback port. `restart` brings it back on the same port
 * from the same AOF.
 */
export interface PrivateRedisOptions {
  /** `everysec` by default, as docker-compose runs it. */
  appendfsync?: 'everysec' | 'always'
  /** Extra `--name value` arguments, e.g. a maxmemory-policy. */
  extra?: string[]
}

export class PrivateRedis {
  private server: ChildProcess | undefined

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'cyborg-faults-redis-'))
    return onFreePort(async (port) => {
      const redis = new PrivateRedis(dir, port, options)
      await redis.launch()
      return redis
    })
  }

  private async launch(): Promise<void> {
    const { appendfsync = 'everysec', extra = [] } = this.options
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
      '--save',
      '',
      ...extra,
    ]
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

  /**
   * A slow disk from now on: every fsync and fdatasync of the server (all its threads) takes `delayMs`,
   * as on a busy cloud volume (strace fault injection); it lasts until the server dies.
   */
  async slowDisk(delayMs: number): Promise<void> {
    const tracer = spawn(
      'strace',
      ['-f', '-o', '/dev/null', '-e', 'trace=fdatasync,fsync', '-e', `inject=fdatasync,fsync:delay_enter=${delayMs * 1000}`, '-p', String(this.server!.pid)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let output = ''
    tracer.stderr.on('data', (chunk) => (output += chunk))
    await waitFor(
      () => {
        if (tracer.exitCode !== null) throw new Error(`strace exited: ${output}`)
        return output.includes('attached') || undefined
      },
      'strace to attach to redis-server',
      10_000,
    )
  }

  /**
   * kill -9 of redis-server, as when its host crashes with the AOF as far as it reached the kernel
   * (what Redis still held in its own buffers is gone), then a new server, on a fast disk, from that AOF.
   */
  async crashAndRestart(): Promise<void> {
    const server = this.server!
    const exit = once(server, 'exit')
    server.kill('SIGKILL')
    await exit
    this.server = undefined
    await this.launch()
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
