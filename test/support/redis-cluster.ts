import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './free-port.ts'
import { waitFor } from './wait-for.ts'

const run = promisify(execFile)
// A cluster node talks to its peers on its port + 10000.
const BUS_PORT_OFFSET = 10_000

export interface RedisCluster {
  /** host:port of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[]
  stop(): Promise<void>
}

/** A private 3-master Redis Cluster on loopback ports (Debian's redis-server), created by redis-cli. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-cluster-'))
  const ports: number[] = []
  const stop = async () => {
    await Promise.all(ports.map((port) => run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => {})))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort(BUS_PORT_OFFSET)
      ports.push(port)
      await run('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--logfile',
        join(dir, `${port}.log`),
      ])
    }
    await waitFor(
      async () => (await Promise.all(ports.map((port) => run('redis-cli', ['-p', String(port), 'ping'])))).every(({ stdout }) => stdout.trim() === 'PONG'),
      'the cluster nodes to start',
      10_000,
    )
    const nodes = ports.map((port) => `127.0.0.1:${port}`)
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'])
    await waitFor(
      async () => {
        const states = await Promise.all(ports.map((port) => run('redis-cli', ['-p', String(port), 'cluster', 'info'])))
        return states.every(({ stdout }) => stdout.includes('cluster_state:ok'))
      },
      'the cluster to agree on its slots',
      20_000,
    )
    return { nodes, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
