import { Queue } from 'bullmq'
import { z } from 'zod'
import type { RedisConnection } from '../redis/connection.ts'
import { KeystoneConfigurationError, type KeystoneSession } from './keystone-session.ts'

/** Internal queue of the conductor: bind outcomes waiting to reach Nova. */
export const NOVA_EVENTS_QUEUE = 'conductor-nova-events'
export const BIND_EVENTS_JOB = 'accelerator-request-bound'

/** One instance's bind outcomes, sent to Nova as one request (Cyborg's ExtARQJobMixin.bind_notify). */
export const bindEventsSchema = z.object({
  instance_uuid: z.uuid(),
  outcomes: z.array(z.object({ arq_uuid: z.uuid(), status: z.enum(['completed', 'failed']) })).min(1),
})
export type BindEvents = z.infer<typeof bindEventsSchema>

/**
 * Where the API leaves bind outcomes for Nova: a BullMQ job per instance, retried with exponential
 * back-off, so a Nova that is down neither loses the event nor holds up the bind.
 */
export class BindEventQueue {
  private readonly queue: Queue

  constructor(
    connection: RedisConnection,
    prefix: string,
    private readonly options: { attempts: number; backoffMs: number; novaUrl: string | undefined; session: KeystoneSession },
  ) {
    this.queue = new Queue(NOVA_EVENTS_QUEUE, { connection, prefix })
  }

  get bullQueue(): Queue {
    return this.queue
  }

  /** Enqueues one instance's outcomes; does nothing when neither NOVA_URL nor the catalog names a Nova. */
  async add(events: BindEvents): Promise<string | undefined> {
    if (!(await this.novaConfigured())) return undefined
    const job = await this.queue.add(BIND_EVENTS_JOB, events, {
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    })
    return job.id
  }

  async close(): Promise<void> {
    await this.queue.close()
  }

  private async novaConfigured(): Promise<boolean> {
    if (this.options.novaUrl !== undefined) return true
    try {
      await this.options.session.endpoint('compute')
      return true
    } catch (error) {
      // No compute in the catalog: no Nova to tell. Keystone down: enqueue, the worker retries.
      return !(error instanceof KeystoneConfigurationError)
    }
  }
}
