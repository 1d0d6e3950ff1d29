import { connect, createServer, type Server, type Socket } from 'node:net'
import { onFreePort } from './free-port.ts'

/** A client connection and its upstream twin. */
interface Pair {
  client: Socket
  upstream: Socket | undefined
}

/**
 * A TCP proxy in front of a test server that can play a hung peer: `hang` stops forwarding in both
 * directions without closing anything (the kernel still acknowledges, so TCP keepalive sees a live
 * peer), and new connections are accepted but never answered; `resume` forwards again what waited.
 * This is how a PostgreSQL or Redis behind a stuck network path, a frozen VM or a full disk behaves.
 */
export class HangProxy {
  private hung = false
  private readonly pairs = new Set<Pair>()
  /** Clients accepted during a hang, connected upstream on resume. */
  private readonly held: Socket[] = []

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstreamPort: number,
  ) {}

  /** A proxy on a free loopback port forwarding to 127.0.0.1:`upstreamPort`. */
  static start(upstreamPort: number): Promise<HangProxy> {
    return onFreePort(
      (port) =>
        new Promise<HangProxy>((resolve, reject) => {
          const server = createServer()
          const proxy = new HangProxy(server, port, upstreamPort)
          server.on('connection', (client) => proxy.accept(client))
          server.once('error', reject)
          server.listen(port, '127.0.0.1', () => resolve(proxy))
        }),
    )
  }

  get isHung(): boolean {
    return this.hung
  }

  /** Stops forwarding: bytes already sent stay in the sockets' buffers, nothing is closed. */
  hang(): void {
    this.hung = true
    for (const { client, upstream } of this.pairs) {
      client.pause()
      upstream?.pause()
    }
  }

  resume(): void {
    this.hung = false
    for (const { client, upstream } of this.pairs) {
      client.resume()
      upstream?.resume()
    }
    for (const client of this.held.splice(0)) this.forward(client)
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy()
      upstream?.destroy()
    }
    for (const client of this.held.splice(0)) client.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    client.on('error', () => {})
    if (this.hung) {
      client.pause()
      this.held.push(client)
      return
    }
    this.forward(client)
  }

  private forward(client: Socket): void {
    if (client.destroyed) return
    const pair: Pair = { client, upstream: undefined }
    const upstream = connect(this.upstreamPort, '127.0.0.1')
    pair.upstream = upstream
    this.pairs.add(pair)
    upstream.on('error', () => client.destroy())
    client.on('close', () => {
      upstream.destroy()
      this.pairs.delete(pair)
    })
    upstream.on('close', () => {
      client.destroy()
      this.pairs.delete(pair)
    })
    // Forwarding by hand, not pipe(): a paused socket must hold what it has, whatever its peer does.
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => client.write(chunk))
    if (this.hung) {
      client.pause()
      upstream.pause()
    } else client.resume()
  }
}
