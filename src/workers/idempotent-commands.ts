import type { Job } from 'bullmq'
import { idempotentResultKey, isIdempotentJobId } from '../queues/contract/idempotency.ts'
import type { RedisConnection } from '../redis/connection.ts'

type Processor = (job: Job, token?: string) => Promise<unknown>

/**
 * Commands sent with an idempotency key (their job id says so): the result is kept for `ttlSeconds`
 * before the job completes, and a job that runs again (its conductor died after the commit) answers
 * with the kept result instead of creating a second object. Producers read the same key first.
 */
export class IdempotentCommands {
  constructor(
    private readonly inner: Processor,
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  readonly process = async (job: Job, token?: string): Promise<unknown> => {
    if (!isIdempotentJobId(job.id)) return this.inner(job, token)
    const key = idempotentResultKey(this.prefix, job.id)
    const kept = await this.redis.get(key)
    if (kept !== null) return JSON.parse(kept)
    const result = await this.inner(job, token)
    await this.redis.set(key, JSON.stringify(result ?? null), 'EX', this.ttlSeconds)
    return result
  }
}
