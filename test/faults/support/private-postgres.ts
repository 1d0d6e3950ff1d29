import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureDatabase } from '../../../src/services.ts'
import { onFreePort } from './free-port.ts'

const run = promisify(execFile)
const DATABASE = 'faults'

/** PostgreSQL's own tools: PG_BIN, or the newest of Debian's /usr/lib/postgresql/<version>/bin. */
async function binary(name: string): Promise<string> {
  if (process.env.PG_BIN) return join(process.env.PG_BIN, name)
  const versions = (await readdir('/usr/lib/postgresql')).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no PostgreSQL in /usr/lib/postgresql: install it or set PG_BIN')
  return join('/usr/lib/postgresql', versions[0]!, 'bin', name)
}

/** initdb and the server refuse to run as root: as root, run them as the `postgres` user. */
async function asServerUser(name: string, args: string[]): Promise<void> {
  const command = await binary(name)
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', command, ...args])
  else await run(command, args)
}

async function ownedByServerUser(path: string): Promise<void> {
  if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres:postgres', path])
}

/**
 * A PostgreSQL server of the fault suite's own, in a temporary directory on a free loopback port:
 * the suite stops and starts it at will and never touches the machine's shared server.
 */
export class PrivatePostgres {
  private running = false

  private constructor(
    /** The temporary directory: the cluster in `data/`, its socket and log. */
    readonly root: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${DATABASE}`
  }

  private get dataDir(): string {
    return join(this.root, 'data')
  }

  /** A fresh cluster with the conductor's database migrated, stopped, for `fromTemplate` to copy. */
  static async createTemplate(): Promise<PrivatePostgres> {
    const root = await mkdtemp(join(tmpdir(), 'cyborg-faults-pg-template-'))
    await ownedByServerUser(root)
    await asServerUser('initdb', ['-D', join(root, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'])
    const template = await PrivatePostgres.started(root)
    await ensureDatabase(template.url)
    await run('npx', ['prisma', 'migrate', 'deploy'], { env: { ...process.env, DATABASE_URL: template.url } })
    await template.stop()
    return template
  }

  /** A running copy of the template cluster. */
  static async fromTemplate(templateRoot: string): Promise<PrivatePostgres> {
    const root = await mkdtemp(join(tmpdir(), 'cyborg-faults-pg-'))
    await cp(join(templateRoot, 'data'), join(root, 'data'), { recursive: true })
    await ownedByServerUser(root)
    return PrivatePostgres.started(root)
  }

  private static started(root: string): Promise<PrivatePostgres> {
    return onFreePort(async (port) => {
      const server = new PrivatePostgres(root, port)
      await server.start()
      return server
    })
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.root} -c listen_addresses=127.0.0.1 -c track_commit_timestamp=on`
    await asServerUser('pg_ctl', ['-D', this.dataDir, '-l', join(this.root, 'server.log'), '-o', options, '-w', '-t', '60', 'start'])
    this.running = true
  }

  /** A fast shutdown: sessions are cut, as when the server goes away under the conductor. */
  async stop(): Promise<void> {
    await asServerUser('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'])
    this.running = false
  }

  async destroy(): Promise<void> {
    if (this.running) await asServerUser('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    this.running = false
    await rm(this.root, { recursive: true, force: true })
  }
}
