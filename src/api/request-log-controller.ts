import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/** Probes that orchestrators and Prometheus poll every few seconds: at debug level, or they drown the log. */
const PROBE_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

/** Fastify's request logging with one line per answered request, in place of its two (received, completed). */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  /** The request's line says 404. */
  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime) }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else if (PROBE_ROUTES.has(request.routeOptions.url ?? '')) reply.log.debug(line, 'request')
    else reply.log.info(line, 'request')
  }
}
