import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { ViewCache } from '../cache/view-cache.ts'
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts'
import type { CommandData } from '../queues/contract/commands.ts'
import { CommandError } from '../queues/contract/command-error.ts'
import { arqVisible, type ArqState, type ArqView } from '../queues/contract/views.ts'
import { ARQ_TRANSITIONS, RESOLVED_STATES } from './arq-states.ts'
import { arqView, type ArqWithRelations } from './views.ts'

type Db = Prisma.TransactionClient

/** Columns a transition may set besides the state. */
interface ArqColumns {
  hostname?: string | null
  device_rp_uuid?: string | null
  instance_uuid?: string | null
  attach_handle_id?: number | null
  deployable_id?: number | null
  bind_failure_reason?: string | null
}

const RELATIONS = { deviceProfile: true, attachHandle: true } as const

/**
 * Accelerator requests: created from a device profile, bound to an attach handle, unbound, deleted.
 * Every state change is one compare-and-set UPDATE that names the states it may come from, so two
 * callers racing on one ARQ cannot both win, and a change Cyborg's state table forbids is refused.
 */
export class ArqService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly views: ViewCache,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** One ARQ per unit of every `resources:*` count in every group of the profile. */
  async create(data: CommandData<'arq.create'>): Promise<ArqView[]> {
    const scope = data.project_id === undefined ? {} : { OR: [{ projectId: data.project_id }, { projectId: null }] }
    const profile = await this.prisma.deviceProfile.findFirst({ where: { name: data.device_profile_name, ...scope } })
    if (!profile) throw new CommandError('not_found', `no device profile ${JSON.stringify(data.device_profile_name)}`)
    const groups = profile.groups as Record<string, string>[]
    const rows = groups.flatMap((group, groupId) => {
      const units = Object.entries(group)
        .filter(([key]) => key.startsWith('resources:'))
        .reduce((sum, [, count]) => sum + Number(count), 0)
      return Array.from({ length: units }, () => ({
        uuid: randomUUID(),
        projectId: data.project_id ?? null,
        deviceProfileId: profile.id,
        deviceProfileGroupId: groupId,
      }))
    })
    if (rows.length === 0) throw new CommandError('invalid', `device profile ${JSON.stringify(profile.name)} requests no resources`)
    const arqs = await this.prisma.extArq.createManyAndReturn({ data: rows, include: RELATIONS })
    return this.cached(arqs)
  }

  async get(data: CommandData<'arq.get'>): Promise<ArqView> {
    const cached = await this.views.get<ArqView>('arq', data.uuid)
    if (cached && arqVisible(cached.project_id, data.project_id)) return cached
    return this.cached([await this.find(this.prisma, data.uuid, data.project_id)]).then(([view]) => view!)
  }

  /**
   * All ARQs, or an instance's. With bind_state=resolved, as Cyborg: an instance's are refused while
   * any is still binding; without an instance, only the resolved ones are listed.
   */
  async list(data: CommandData<'arq.list'>): Promise<ArqView[]> {
    const arqs = await this.prisma.extArq.findMany({
      where: { ...(data.instance_uuid ? { instanceUuid: data.instance_uuid } : {}), ...(data.project_id === undefined ? {} : { projectId: data.project_id }) },
      include: RELATIONS,
      orderBy: { id: 'asc' },
    })
    if (data.bind_state === 'resolved') {
      const pending = arqs.filter((arq) => !RESOLVED_STATES.includes(arq.state))
      if (data.instance_uuid === undefined) return arqs.filter((arq) => RESOLVED_STATES.includes(arq.state)).map(arqView)
      if (pending.length > 0) {
        throw new CommandError(
          'unresolved',
          `${pending.length} of ${arqs.length} ARQ(s) of instance ${data.instance_uuid} still binding: ${pending.map((arq) => `${arq.uuid} ${arq.state}`).join(', ')}`,
        )
      }
    }
    return arqs.map(arqView)
  }

  /**
   * Cyborg's bind: BindStarted is committed first (a crash then leaves it visible as unresolved);
   * then one transaction takes a free attach handle of the deployable with that resource provider on
   * that host (FOR UPDATE SKIP LOCKED: two binds never get the same handle) and ends Bound, or
   * BindFailed when none is free.
   */
  async bind(data: CommandData<'arq.bind'>): Promise<ArqView> {
    await this.transition(this.prisma, data.uuid, 'BindStarted', data.project_id, {
      hostname: data.hostname,
      device_rp_uuid: data.device_rp_uuid,
      instance_uuid: data.instance_uuid,
      bind_failure_reason: null,
    })
    try {
      await this.prisma.$transaction(async (tx) => {
        // As Cyborg (ext_arq_job.py): the deployable is the one with that resource provider. The
        // hostname is Nova's nodename (often an FQDN, not the agent's hostname): recorded, not matched.
        const [handle] = await tx.$queryRaw<{ id: number; deployable_id: number }[]>`
          UPDATE attach_handles SET in_use = true, version = version + 1, updated_at = now()
          WHERE id = (
            SELECT handle.id FROM attach_handles handle
            JOIN deployables deployable ON deployable.id = handle.deployable_id
            JOIN devices device ON device.id = deployable.device_id
            WHERE deployable.rp_uuid = ${data.device_rp_uuid}::uuid AND device.status = 'enabled' AND NOT handle.in_use
            ORDER BY handle.id LIMIT 1
            FOR UPDATE OF handle SKIP LOCKED)
          RETURNING id, deployable_id`
        if (handle) await this.transition(tx, data.uuid, 'Bound', data.project_id, { attach_handle_id: handle.id, deployable_id: handle.deployable_id })
        else await this.transition(tx, data.uuid, 'BindFailed', data.project_id, { bind_failure_reason: await this.whyNoHandle(tx, data.device_rp_uuid) })
      })
    } catch (error) {
      // Nova waits for a resolved state: the ARQ ends BindFailed. Should PostgreSQL refuse that too, it
      // stays BindStarted, and the caller hears both reasons.
      const reason = `the bind failed in the conductor: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000)
      await this.transition(this.prisma, data.uuid, 'BindFailed', data.project_id, { bind_failure_reason: reason }).catch((recovery: unknown) => {
        throw new AggregateError([error, recovery], `binding ARQ ${data.uuid} failed, and so did marking it BindFailed: it stays BindStarted`)
      })
      throw error
    }
    const view = await this.refresh(data.uuid)
    if (view.state === 'BindFailed') {
      this.log.warn({ arq: data.uuid, instance: data.instance_uuid, hostname: data.hostname, reason: view.bind_failure_reason }, 'ARQ bind failed')
    }
    return view
  }

  /** Why no attach handle of the deployable with resource provider `rpUuid` could be taken. */
  private async whyNoHandle(db: Db, rpUuid: string): Promise<string> {
    const [deployable] = await db.$queryRaw<{ name: string; hostname: string; status: string; handles: number; in_use: number }[]>`
      SELECT deployable.name, device.hostname, device.status::text AS status,
        count(handle.id)::int AS handles, count(handle.id) FILTER (WHERE handle.in_use)::int AS in_use
      FROM deployables deployable JOIN devices device ON device.id = deployable.device_id
      LEFT JOIN attach_handles handle ON handle.deployable_id = deployable.id
      WHERE deployable.rp_uuid = ${rpUuid}::uuid GROUP BY deployable.name, device.hostname, device.status`
    if (!deployable) return `no deployable has resource provider ${rpUuid}: no agent reported it, or it left the inventory`
    const where = `deployable ${deployable.name} (resource provider ${rpUuid}) on host ${deployable.hostname}`
    if (deployable.status !== 'enabled') return `the device of ${where} is disabled (${deployable.status})`
    return `${where} has no free attach handle (${deployable.in_use} of ${deployable.handles} in use)`
  }

  /**
   * Frees the attach handle and ends Unbound, in one transaction. A Bound ARQ whose handle has
   * disappeared (its device left the inventory) ends UnbindFailed instead.
   */
  async unbind(data: CommandData<'arq.unbind'>): Promise<ArqView> {
    await this.prisma.$transaction(async (tx) => {
      const arq = await this.find(tx, data.uuid, data.project_id, true)
      if (arq.state === 'Bound' && arq.attachHandleId === null) {
        await this.transition(tx, data.uuid, 'UnbindFailed', data.project_id)
        return
      }
      if (arq.attachHandleId !== null) {
        await tx.attachHandle.update({ where: { id: arq.attachHandleId }, data: { inUse: false, version: { increment: 1 } } })
      }
      await this.transition(tx, data.uuid, 'Unbound', data.project_id, {
        hostname: null,
        device_rp_uuid: null,
        instance_uuid: null,
        attach_handle_id: null,
        deployable_id: null,
      })
    })
    return this.refresh(data.uuid)
  }

  /**
   * Every named ARQ goes to Deleting first (committed: a failure past this point leaves them
   * Deleting, which Nova sees as resolved), then their handles are freed and the rows deleted.
   */
  async delete(data: CommandData<'arq.delete'>): Promise<{ deleted: number }> {
    const target = data.uuids ? Prisma.sql`uuid = ANY(${data.uuids}::uuid[])` : Prisma.sql`instance_uuid = ${data.instance_uuid}::uuid`
    const scope = data.project_id === undefined ? Prisma.empty : Prisma.sql`AND project_id = ${data.project_id}`
    await this.prisma.$executeRaw`
      UPDATE extended_accelerator_requests SET state = 'Deleting', version = version + 1, updated_at = now()
      WHERE ${target} ${scope} AND state = ANY(${[...ARQ_TRANSITIONS.Deleting]}::"ArqState"[])`
    const deleted = await this.prisma.$transaction(async (tx) => {
      const doomed = await tx.$queryRaw<{ uuid: string; attach_handle_id: number | null }[]>`
        SELECT uuid::text, attach_handle_id FROM extended_accelerator_requests WHERE ${target} ${scope} AND state = 'Deleting' FOR UPDATE`
      const handles = doomed.flatMap((arq) => (arq.attach_handle_id === null ? [] : [arq.attach_handle_id]))
      if (handles.length > 0) await tx.attachHandle.updateMany({ where: { id: { in: handles } }, data: { inUse: false, version: { increment: 1 } } })
      await tx.extArq.deleteMany({ where: { uuid: { in: doomed.map((arq) => arq.uuid) } } })
      return doomed.map((arq) => arq.uuid)
    })
    await this.views.drop('arq', deleted)
    return { deleted: deleted.length }
  }

  /**
   * Moves one ARQ to `to` if, and only if, it is in a state `to` may be entered from: one UPDATE.
   * Refuses with not_found or illegal_transition otherwise.
   */
  private async transition(db: Db, uuid: string, to: ArqState, projectId: string | undefined, columns: ArqColumns = {}): Promise<void> {
    const from = ARQ_TRANSITIONS[to]
    const sets = Object.entries(columns).map(([column, value]) => {
      const cast = column === 'device_rp_uuid' || column === 'instance_uuid' ? Prisma.raw('::uuid') : Prisma.empty
      return Prisma.sql`, ${Prisma.raw(column)} = ${value}${cast}`
    })
    const scope = projectId === undefined ? Prisma.empty : Prisma.sql`AND project_id = ${projectId}`
    const changed = await db.$executeRaw`
      UPDATE extended_accelerator_requests
      SET state = ${to}::"ArqState", version = version + 1, updated_at = now()${sets.length > 0 ? Prisma.join(sets, '') : Prisma.empty}
      WHERE uuid = ${uuid}::uuid ${scope} AND state = ANY(${[...from]}::"ArqState"[])`
    if (changed === 1) return
    const current = await this.find(db, uuid, projectId)
    throw new CommandError(
      'illegal_transition',
      `ARQ ${uuid} is ${current.state}; it cannot become ${to}${from.length > 0 ? ` (only from ${from.join(', ')})` : ''}`,
    )
  }

  private async find(db: Db, uuid: string, projectId: string | undefined, forUpdate = false): Promise<ArqWithRelations> {
    if (forUpdate) await db.$queryRaw`SELECT id FROM extended_accelerator_requests WHERE uuid = ${uuid}::uuid FOR UPDATE`
    const arq = await db.extArq.findFirst({ where: { uuid, ...(projectId === undefined ? {} : { projectId }) }, include: RELATIONS })
    if (!arq) throw new CommandError('not_found', `no accelerator request ${uuid}`)
    return arq
  }

  private async refresh(uuid: string): Promise<ArqView> {
    const [view] = await this.cached([await this.find(this.prisma, uuid, undefined)])
    return view!
  }

  private async cached(arqs: ArqWithRelations[]): Promise<ArqView[]> {
    const views = arqs.map(arqView)
    await this.views.put(
      'arq',
      arqs.map((arq, index) => ({ key: arq.uuid, version: Number(arq.version), view: views[index] })),
    )
    return views
  }
}
