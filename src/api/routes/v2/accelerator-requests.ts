import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { CommandError } from '../../../queues/contract/command-error.ts'
import { commandSchemas } from '../../../queues/contract/commands.ts'
import { arqVisible, type ArqView } from '../../../queues/contract/views.ts'
import { actingAs, type Acting } from '../../plugins/auth.ts'
import { idempotencyOf } from '../../idempotency.ts'
import { MINOR_PROJECT_ID, requireMinor } from '../../plugins/microversion.ts'
import { badRequest, forbidden } from '../../http-error.ts'
import { arqSchema, noContent, presentArq } from './presenters.ts'

const uuid = z.uuid({ error: (issue) => `must be a uuid, got ${JSON.stringify(issue.input)}` })
const uuidList = z
  .string()
  .transform((text) => text.split(','))
  .pipe(z.array(uuid))
  .describe('comma-separated ARQ uuids')

const BIND_FIELDS = ['hostname', 'device_rp_uuid', 'instance_uuid'] as const
type BindField = (typeof BIND_FIELDS)[number]

const patchOperation = z.object({
  op: z.enum(['add', 'remove']).describe('add binds, remove unbinds'),
  path: z.enum(['/hostname', '/device_rp_uuid', '/instance_uuid', '/project_id']),
  value: z.string().optional(),
})
type PatchOperation = z.infer<typeof patchOperation>
const patchBody = z
  .record(uuid, z.array(patchOperation).min(1, 'give at least one operation'))
  .refine((patches) => Object.keys(patches).length > 0, 'give at least one ARQ uuid')
  .describe('JSON-Patch operations per ARQ uuid: add /hostname, /device_rp_uuid and /instance_uuid to bind; remove them to unbind')

/** Cyborg's /v2/accelerator_requests: create, read, bind and unbind (PATCH), delete. */
const acceleratorRequestRoutes: FastifyPluginAsyncZod = async (app) => {
  const { client, views, bindEvents } = app.conductor
  const arqList = z.object({ arqs: z.array(arqSchema) })

  const readArq = (id: string, scope: Acting) =>
    views.read<ArqView>(
      'arq',
      id,
      (view) => arqVisible(view.project_id, scope.project_id),
      () => client.command('arq.get', { uuid: id, ...scope }),
    )

  app.get(
    '/accelerator_requests',
    {
      config: { permission: 'read' },
      schema: {
        description: 'With instance and bind_state=resolved: 423 while any ARQ of the instance is still binding',
        querystring: z.object({
          instance: uuid.optional(),
          bind_state: z.literal('resolved', { error: (issue) => `the only bind_state is "resolved", got ${JSON.stringify(issue.input)}` }).optional(),
        }),
        response: { 200: arqList },
      },
    },
    async (request) => {
      const { instance, bind_state } = request.query
      const arqs = await client.command('arq.list', { instance_uuid: instance, bind_state, ...actingAs(request) })
      return { arqs: arqs.map((arq) => presentArq(request, arq)) }
    },
  )

  app.get(
    '/accelerator_requests/:uuid',
    { config: { permission: 'read' }, schema: { params: z.object({ uuid }), response: { 200: arqSchema } } },
    async (request) => presentArq(request, await readArq(request.params.uuid, actingAs(request))),
  )

  app.post(
    '/accelerator_requests',
    {
      config: { permission: 'arq.write' },
      schema: { body: commandSchemas['arq.create'].omit({ project_id: true }), response: { 201: arqList } },
    },
    async (request, reply) => {
      // A retry with the same request id gets the ARQs of the first request, also when that one timed out (504) and committed later.
      const data = { device_profile_name: request.body.device_profile_name, ...actingAs(request) }
      const arqs = await client.command('arq.create', data, undefined, idempotencyOf(request))
      return reply.code(201).send({ arqs: arqs.map((arq) => presentArq(request, arq)) })
    },
  )

  /** Binds (every op "add") or unbinds (every op "remove") the patched ARQs; bind outcomes go to Nova, one request per instance. */
  const applyPatches = async (request: FastifyRequest, patches: [string, PatchOperation[]][]) => {
    const scope = actingAs(request)
    const ops = new Set(patches.flatMap(([, operations]) => operations.map((operation) => operation.op)))
    if (ops.size > 1) throw badRequest('every operation of one request must be "add" (bind) or every one "remove" (unbind)')
    for (const [, operations] of patches) {
      if (operations.some((operation) => operation.path === '/project_id')) {
        requireMinor(request.apiMinor, MINOR_PROJECT_ID, 'an ARQ patch with /project_id')
        if (request.caller!.role !== 'admin') throw forbidden('only an admin may set /project_id of an ARQ')
        throw badRequest('/project_id cannot be patched here: an ARQ keeps the project of the token that created it')
      }
    }
    if (ops.has('add')) {
      const binds = patches.map(([arq, operations]) => bindOf(arq, operations))
      for (const instance of new Set(binds.map((bind) => bind.instance_uuid))) {
        // As Cyborg: ARQs are bound to an instance once, all in one request.
        if ((await client.command('arq.list', { instance_uuid: instance, ...scope })).length > 0) {
          throw badRequest(`instance ${instance} already has accelerator requests; it cannot bind more`)
        }
      }
      const outcomes = await Promise.allSettled(binds.map((bind) => client.command('arq.bind', { ...bind, ...scope })))
      await notifyNova(request, binds, outcomes)
      refuseOnFailure(outcomes)
    } else {
      refuseOnFailure(await Promise.allSettled(patches.map(([arq]) => client.command('arq.unbind', { uuid: arq, ...scope }))))
    }
  }

  /**
   * Every bind that ran (its ARQ ended Bound or BindFailed) is told to Nova, batched per instance as
   * Cyborg's bind_notify; a bind refused before it started (unknown ARQ, illegal state) changed nothing.
   */
  const notifyNova = async (request: FastifyRequest, binds: { uuid: string; instance_uuid: string }[], outcomes: PromiseSettledResult<ArqView>[]) => {
    if (!bindEvents) return
    const byInstance = new Map<string, { arq_uuid: string; status: 'completed' | 'failed' }[]>()
    binds.forEach((bind, index) => {
      const outcome = outcomes[index]!
      if (outcome.status === 'rejected' && outcome.reason instanceof CommandError) return
      const status = outcome.status === 'fulfilled' && outcome.value.state === 'Bound' ? 'completed' : 'failed'
      byInstance.set(bind.instance_uuid, [...(byInstance.get(bind.instance_uuid) ?? []), { arq_uuid: bind.uuid, status }])
    })
    for (const [instance_uuid, arqs] of byInstance) {
      try {
        await bindEvents.add({ instance_uuid, outcomes: arqs })
      } catch (error) {
        // The binds are done and answered; a lost notification is logged, never a failed PATCH.
        request.log.error({ err: error, instance: instance_uuid }, 'could not enqueue the bind events for Nova')
      }
    }
  }

  app.patch(
    '/accelerator_requests',
    { config: { permission: 'arq.write' }, schema: { body: patchBody, response: { 202: noContent } } },
    async (request, reply) => {
      await applyPatches(request, Object.entries(request.body))
      return reply.code(202).send()
    },
  )

  app.patch(
    '/accelerator_requests/:uuid',
    {
      config: { permission: 'arq.write' },
      schema: {
        description: 'One ARQ, as openstacksdk patches it: {"<uuid>": [ops]} (or the bare list of ops)',
        params: z.object({ uuid }),
        body: z.union([z.array(patchOperation).min(1, 'give at least one operation'), patchBody]),
        response: { 202: noContent },
      },
    },
    async (request, reply) => {
      const { uuid: arq } = request.params
      const body = request.body
      const operations = Array.isArray(body) ? body : body[arq]
      if (!operations || (!Array.isArray(body) && Object.keys(body).length !== 1)) {
        throw badRequest(`the patch of /v2/accelerator_requests/${arq} must be {"${arq}": [operations]}`)
      }
      await applyPatches(request, [[arq, operations]])
      return reply.code(202).send()
    },
  )

  app.delete(
    '/accelerator_requests/:uuid',
    { config: { permission: 'arq.write' }, schema: { params: z.object({ uuid }), response: { 204: noContent } } },
    async (request, reply) => {
      const scope = actingAs(request)
      // 404 for an ARQ this caller cannot see: openstacksdk's ignore_missing relies on it.
      await readArq(request.params.uuid, scope)
      await client.command('arq.delete', { uuids: [request.params.uuid], ...scope })
      return reply.code(204).send()
    },
  )

  app.delete(
    '/accelerator_requests',
    {
      config: { permission: 'arq.write' },
      schema: {
        description: 'Either arqs= (each must exist) or instance= (idempotent)',
        querystring: z.object({ arqs: uuidList.optional(), instance: uuid.optional() }),
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      const { arqs, instance } = request.query
      if ((arqs === undefined) === (instance === undefined)) throw badRequest('give either arqs=<uuid>,<uuid>... or instance=<uuid>')
      const scope = actingAs(request)
      if (arqs) {
        // As Cyborg: deleting by uuid is refused, before anything is deleted, when one does not exist.
        for (const arq of arqs) await readArq(arq, scope)
        await client.command('arq.delete', { uuids: arqs, ...scope })
      } else {
        await client.command('arq.delete', { instance_uuid: instance, ...scope })
      }
      return reply.code(204).send()
    },
  )
}

/** The bind fields of one ARQ's "add" operations; every one is required. */
function bindOf(arq: string, operations: PatchOperation[]): { uuid: string } & Record<BindField, string> {
  const fields = Object.fromEntries(operations.map((operation) => [operation.path.slice(1), operation.value]))
  const absent = BIND_FIELDS.filter((field) => typeof fields[field] !== 'string' || fields[field] === '')
  if (absent.length > 0) throw badRequest(`ARQ ${arq}: fields absent in patch: ${absent.map((field) => `/${field}`).join(', ')}`)
  return { uuid: arq, hostname: fields.hostname!, device_rp_uuid: fields.device_rp_uuid!, instance_uuid: fields.instance_uuid! }
}

/** Fails with the first refusal once every command has settled: no command is left running behind the answer. */
function refuseOnFailure(outcomes: PromiseSettledResult<unknown>[]): void {
  const refused = outcomes.find((outcome) => outcome.status === 'rejected')
  if (refused) throw refused.reason
}

export default acceleratorRequestRoutes
