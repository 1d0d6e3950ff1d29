import { randomBytes } from 'node:crypto'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import cookie from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { may, tokenId, type Caller, type Permission } from '../../auth/access.ts'
import { HttpError } from '../http-error.ts'

export interface AdminOptions {
  /** Signs the login cookie (API_COOKIE_SECRET); a random one otherwise. */
  cookieSecret?: string
}

const SESSION_COOKIE = 'cyborg_session'
/** A login lasts a working day; then the operator pastes the token again. */
const SESSION_TTL_MS = 8 * 3600 * 1000
/** Bull Board with full control (retry, remove, clean, pause), for admin tokens. */
const BOARD_PATH = '/admin/queues'
/** The same board in Bull Board's read-only mode, for operator tokens (and admins). */
const READ_ONLY_BOARD_PATH = '/admin/queues-read-only'

/**
 * Bull Board for the callers with the `operate` permission (admin) at /admin/queues, and read-only
 * for those with `observe` (operator) at /admin/queues-read-only: as a bearer header, or, for a
 * person in a browser, through the login form, which sets a signed httpOnly cookie holding the
 * token's id (never the token). The cookie is honoured under /admin only.
 */
const adminRoutes: FastifyPluginAsyncZod<AdminOptions> = async (app, options) => {
  await app.register(cookie, { secret: options.cookieSecret ?? randomBytes(32).toString('hex') })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  const sessionCaller = (request: FastifyRequest): Caller | null => {
    const raw = request.cookies[SESSION_COOKIE]
    if (raw === undefined) return null
    const unsigned = request.unsignCookie(raw)
    const [id = '', issuedAt = '0'] = unsigned.valid && unsigned.value !== null ? unsigned.value.split('.') : []
    if (Date.now() - Number(issuedAt) > SESSION_TTL_MS) return null
    return app.callerById(id) ?? null
  }

  app.get('/login', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html').send(loginPage()))

  app.post('/login', { schema: { hide: true, body: z.object({ token: z.string().min(1) }) } }, async (request, reply) => {
    const caller = app.callerById(tokenId(request.body.token))
    if (!caller || !may(caller, 'observe')) {
      request.log.info('Bull Board login refused')
      return reply
        .code(401)
        .type('text/html')
        .send(loginPage('That is not an admin or operator token. Bull Board needs a token of role admin or operator from API_TOKENS.'))
    }
    reply.setCookie(SESSION_COOKIE, `${caller.id}.${Date.now()}`, {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/admin',
      maxAge: SESSION_TTL_MS / 1000,
    })
    return reply.redirect(may(caller, 'operate') ? BOARD_PATH : READ_ONLY_BOARD_PATH, 303)
  })

  app.post('/logout', { schema: { hide: true } }, async (_request, reply) =>
    reply.clearCookie(SESSION_COOKIE, { path: '/admin' }).redirect('/admin/login', 303),
  )

  const mountBoard = async (path: string, permission: Permission) => {
    await app.register(async (board) => {
      // preParsing, after the rate limits (a route's onRequest hook) have counted the request.
      board.addHook('preParsing', async (request, reply) => {
        request.caller ??= sessionCaller(request)
        if (request.headers.accept?.includes('text/html')) {
          if (!request.caller) return void reply.redirect('/admin/login', 302)
          // An operator who opens the full board is shown the read-only one.
          if (!may(request.caller, permission) && may(request.caller, 'observe')) return void reply.redirect(READ_ONLY_BOARD_PATH, 302)
        }
        // Answered here: Bull Board's own error handler would turn a refusal into a 500.
        try {
          app.authorize(request, permission)
        } catch (error) {
          refuse(reply, error)
        }
      })
      const serverAdapter = new FastifyAdapter()
      serverAdapter.setBasePath(path)
      const readOnlyMode = permission !== 'operate'
      createBullBoard({
        queues: app.conductor.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode })),
        serverAdapter,
        options: { uiConfig: { boardTitle: readOnlyMode ? 'Cyborg Conductor (read-only)' : 'Cyborg Conductor' } },
      })
      await board.register(serverAdapter.registerPlugin(), { prefix: path.slice('/admin'.length) })
    })
  }
  await mountBoard(BOARD_PATH, 'operate')
  await mountBoard(READ_ONLY_BOARD_PATH, 'observe')
}

function refuse(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof HttpError)) throw error
  return reply.code(error.statusCode).headers(error.headers).send({ error: error.name, message: error.message })
}

function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cyborg Conductor: log in</title></head>
<body>
<h1>Cyborg Conductor</h1>
<p>Bull Board shows the conductor's queues. Log in with an admin token from API_TOKENS (or an operator token, read-only).</p>
${problem ? `<p role="alert">${problem}</p>` : ''}
<form method="post" action="/admin/login">
<label>Token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Log in</button>
</form>
</body></html>`
}

export default adminRoutes
