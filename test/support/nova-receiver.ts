import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'

// Nova's request schema of POST /os-server-external-events at microversion 2.82, transcribed from
// nova/api/openstack/compute/schemas/server_external_events.py (create_v282) and
// nova/objects/external_event.py (EVENT_STATUSES): the same types, enums, limits, required
// properties, and no additional properties.
const EVENT_NAMES_V282 = [
  'network-changed',
  'network-vif-plugged',
  'network-vif-unplugged',
  'network-vif-deleted',
  'volume-extended',
  'power-update',
  'accelerator-request-bound',
] as const
const EVENT_STATUSES = ['failed', 'completed', 'in-progress'] as const
export const novaEventsRequestV282 = z.strictObject({
  events: z
    .array(
      z.strictObject({ name: z.enum(EVENT_NAMES_V282), server_uuid: z.uuid(), status: z.enum(EVENT_STATUSES).optional(), tag: z.string().max(255).optional() }),
    )
    .min(1),
})

export type NovaEvent = z.infer<typeof novaEventsRequestV282>['events'][number]

export interface ReceivedRequest {
  token: string | undefined
  microversion: string | undefined
  events: NovaEvent[]
}

/**
 * Nova's side of the bind events: an HTTP server that answers `POST /v2.1/os-server-external-events`
 * as Nova does (200 with a code per event), after checking the request against Nova's schema, the
 * microversion (2.82, which knows accelerator-request-bound) and the token (with `checkToken`). It
 * records each request it took; `refuse` makes it answer 503 as a Nova that is down behind its proxy.
 */
export class NovaReceiver {
  readonly requests: ReceivedRequest[] = []
  readonly refused: string[] = []
  refuse = false

  private constructor(
    private readonly server: Server,
    private readonly checkToken: (token: string | undefined) => Promise<boolean>,
  ) {}

  static async start(checkToken: (token: string | undefined) => Promise<boolean> = async () => true): Promise<NovaReceiver> {
    let receiver: NovaReceiver | undefined
    const server = createServer((request, response) => {
      void receiver!.handle(request).then(([status, body]) => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(body))
      })
    })
    receiver = new NovaReceiver(server, checkToken)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  /** Nova's compute endpoint, as NOVA_URL or the catalog gives it. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2.1`
  }

  /** The events received so far, in order. */
  get events(): NovaEvent[] {
    return this.requests.flatMap((request) => request.events)
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private async handle(request: IncomingMessage): Promise<[number, unknown]> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const refuse = (status: number, why: string): [number, unknown] => {
      this.refused.push(why)
      return [status, { error: why }]
    }
    if (this.refuse) return refuse(503, 'Nova is down')
    if (request.method !== 'POST' || request.url !== '/v2.1/os-server-external-events') return refuse(404, `no route ${request.method} ${request.url}`)
    const token = request.headers['x-auth-token'] as string | undefined
    if (!(await this.checkToken(token))) return refuse(401, 'the token is not valid')
    const microversion = request.headers['openstack-api-version'] as string | undefined
    if (microversion !== 'compute 2.82') return refuse(400, `microversion ${microversion}: accelerator-request-bound needs compute 2.82`)
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      return refuse(400, 'the body is not JSON')
    }
    const parsed = novaEventsRequestV282.safeParse(body)
    if (!parsed.success) return refuse(400, `the body breaks Nova's schema: ${parsed.error.message}`)
    this.requests.push({ token, microversion, events: parsed.data.events })
    return [200, { events: parsed.data.events.map((event) => ({ ...event, code: 200 })) }]
  }
}
