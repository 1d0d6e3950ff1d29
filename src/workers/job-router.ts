import type { Job } from 'bullmq'
import type { z } from 'zod'
import { describeIssues } from '../queues/contract/writes.ts'
import { InvalidJobError } from './invalid-job-error.ts'

/** How the jobs of one name are checked and carried out. */
export interface JobRoute {
  schema: z.ZodType
  /** Begins the reason of a job whose data breaks the schema, e.g. `invalid read`. */
  invalid: string
  handle(data: unknown, job: Job): Promise<unknown>
}

/** A route whose handler is typed by its schema: it only ever sees data the schema accepted. */
export function route<S extends z.ZodType>(schema: S, invalid: string, handle: (data: z.output<S>, job: Job) => Promise<unknown>): JobRoute {
  return { schema, invalid, handle: handle as JobRoute['handle'] }
}

/**
 * The one place where a job is dispatched: job name → schema → handler. An unknown name or invalid
 * data fails the job with an InvalidJobError (unrecoverable: BullMQ does not retry it).
 */
export class JobRouter {
  constructor(
    private readonly queue: string,
    private readonly routes: Record<string, JobRoute>,
  ) {}

  readonly process = async (job: Job): Promise<unknown> => {
    const route = Object.hasOwn(this.routes, job.name) ? this.routes[job.name] : undefined
    if (!route) throw new InvalidJobError(`unknown job name ${JSON.stringify(job.name)} on ${this.queue}: expected ${this.expectedNames()}`)
    const parsed = route.schema.safeParse(job.data)
    if (!parsed.success) throw new InvalidJobError(`${route.invalid}: ${describeIssues(parsed.error)}`)
    return route.handle(parsed.data, job)
  }

  private expectedNames(): string {
    const names = Object.keys(this.routes).map((name) => JSON.stringify(name))
    return names.length <= 2 ? names.join(' or ') : `one of ${names.join(', ')}`
  }
}
