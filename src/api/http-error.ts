/** An HTTP answer other than success, with a message a person can act on. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    override readonly name: string,
    message: string,
    /** Headers the answer carries, e.g. WWW-Authenticate on a 401. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export const unauthorized = (message: string) => new HttpError(401, 'Unauthorized', message, { 'www-authenticate': 'Bearer realm="cyborg-conductor"' })
export const forbidden = (message: string) => new HttpError(403, 'Forbidden', message)
export const notFound = (message: string) => new HttpError(404, 'Not Found', message)
export const badRequest = (message: string) => new HttpError(400, 'Bad Request', message)
export const notAcceptable = (message: string) => new HttpError(406, 'Not Acceptable', message)
