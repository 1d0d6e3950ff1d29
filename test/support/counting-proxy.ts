import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxiedRequest {
  method: string
  path: string
  /** Placement's status, or 0 when Placement could not be reached (the client's connection is then dropped). */
  status: number
}

/**
 * An HTTP proxy in front of a real Placement that records every request the conductor makes, so
 * tests count Placement reads and writes from outside the conductor. `beforeForward` lets a test act
 * as another writer at an exact moment (a generation conflict).
 */
export class CountingProxy {
  readonly requests: ProxiedRequest[] = []
  beforeForward: ((request: { method: string; path: string }) => Promise<void>) | undefined

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const upstream = new URL(target)
    let proxy: CountingProxy | undefined
    const server = createServer((incoming, outgoing) => void proxy!.forward(upstream, incoming, outgoing))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    proxy = new CountingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    return proxy
  }

  /** Requests from index `since` (to `until`): reads (GET) and writes (everything else) that reached Placement, and those that did not. */
  counts(since = 0, until = this.requests.length): { reads: number; writes: number; unreachable: number } {
    const made = this.requests.slice(since, until)
    const reached = made.filter((each) => each.status !== 0)
    return {
      reads: reached.filter((each) => each.method === 'GET').length,
      writes: reached.filter((each) => each.method !== 'GET').length,
      unreachable: made.length - reached.length,
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async forward(upstream: URL, incoming: IncomingMessage, outgoing: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of incoming) chunks.push(chunk as Buffer)
    const method = incoming.method ?? 'GET'
    const path = incoming.url ?? '/'
    await this.beforeForward?.({ method, path })
    const entry: ProxiedRequest = { method, path, status: 0 }
    this.requests.push(entry)
    const headers = { ...incoming.headers, host: upstream.host }
    const upstreamRequest = request({ host: upstream.hostname, port: upstream.port, method, path, headers }, (answer) => {
      entry.status = answer.statusCode ?? 0
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(outgoing)
    })
    // Placement down: the conductor sees its connection dropped, as it would see a refused one.
    upstreamRequest.on('error', () => outgoing.socket?.destroy())
    upstreamRequest.end(Buffer.concat(chunks))
  }
}
