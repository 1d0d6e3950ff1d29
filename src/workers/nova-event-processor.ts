import { UnrecoverableError, type Job } from 'bullmq'
import type { Logger } from 'pino'
import { BIND_EVENTS_JOB, bindEventsSchema, NOVA_EVENTS_QUEUE } from '../openstack/bind-event-queue.ts'
import { NovaRejectedError, type NovaClient } from '../openstack/nova-client.ts'
import { JobRouter, route } from './job-router.ts'

/**
 * `conductor-nova-events`: one instance's bind outcomes posted to Nova as accelerator-request-bound
 * events. Nova down: the job fails and BullMQ retries it with back-off; Nova refusing: it fails for good,
 * with Nova's answer as the reason (Bull Board).
 */
export class NovaEventProcessor {
  private readonly router: JobRouter

  constructor(nova: NovaClient, log: Pick<Logger, 'info'>) {
    this.router = new JobRouter(NOVA_EVENTS_QUEUE, {
      [BIND_EVENTS_JOB]: route(bindEventsSchema, `invalid ${BIND_EVENTS_JOB}`, async (data) => {
        const events = data.outcomes.map(({ arq_uuid, status }) => ({
          name: 'accelerator-request-bound' as const,
          server_uuid: data.instance_uuid,
          tag: arq_uuid,
          status,
        }))
        try {
          const note = await nova.sendEvents(events)
          log.info({ instance: data.instance_uuid, events: events.length }, note)
          return { sent: events.length, note }
        } catch (error) {
          if (error instanceof NovaRejectedError) throw new UnrecoverableError(error.message)
          throw error
        }
      }),
    })
  }

  readonly process = (job: Job): Promise<unknown> => this.router.process(job)
}
