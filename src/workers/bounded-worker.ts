import { DelayedError, UnrecoverableError, Worker, type Job, type JobJson, type Processor, type WorkerOptions } from 'bullmq'
import { InvalidJobError } from './invalid-job-error.ts'

export interface JobDataLimits {
  /** JOB_MAX_BYTES: larger data is never parsed; the job fails and is kept without it. */
  maxBytes: number
  /** JOB_KEPT_DATA_MAX_BYTES: a finished job's larger data is replaced by its size. */
  keptMaxBytes: number
}

/** What a finished job keeps in place of data larger than JOB_KEPT_DATA_MAX_BYTES (or JOB_MAX_BYTES). */
export interface DroppedData {
  droppedDataBytes: number
}

function isDroppedData(data: unknown): data is DroppedData {
  return typeof (data as DroppedData | null)?.droppedDataBytes === 'number' && Object.keys(data as object).length === 1
}

/**
 * A BullMQ worker whose jobs cost bounded memory, in the process and in Redis, whoever produced them.
 * Data over JOB_MAX_BYTES is measured as the text Redis returned and never parsed (a 50 MB batch
 * parsed into objects took the process past 1 GB): the job fails with the reason and is kept without
 * it. Once a job has finished (completed, or failed for good), data over JOB_KEPT_DATA_MAX_BYTES is
 * replaced by its size, so kept jobs are bounded by count times that, not times the largest job:
 * what they carried is in the buffer, PostgreSQL or the dead letters by then.
 */
export class BoundedWorker extends Worker {
  /** Each job's data size as Redis returned it (bytes of JSON), read before it is parsed. */
  private readonly dataBytes = new WeakMap<Job, number>()
  private readonly limits: JobDataLimits

  constructor(name: string, processor: Processor, options: WorkerOptions, limits: JobDataLimits) {
    // The processor needs what `createJob` records; BullMQ calls both only once the constructor has returned.
    const self: { worker?: BoundedWorker } = {}
    super(name, (job, token) => self.worker!.processWithin(processor, job, token), options)
    self.worker = this
    this.limits = limits
  }

  protected override createJob(json: JobJson, jobId: string): Job {
    const bytes = Buffer.byteLength(json.data ?? '')
    const job = super.createJob(bytes > this.limits.maxBytes ? { ...json, data: 'null' } : json, jobId)
    this.dataBytes.set(job, bytes)
    return job
  }

  private async processWithin(processor: Processor, job: Job, token?: string): Promise<unknown> {
    const limits = this.limits
    const bytes = this.dataBytes.get(job) ?? 0
    if (bytes > limits.maxBytes) {
      await this.dropData(job, bytes)
      throw new InvalidJobError(`job data is ${bytes} bytes of JSON, more than the ${limits.maxBytes} allowed (JOB_MAX_BYTES); its data was dropped`)
    }
    // Taken again after a stall once it had finished and dropped its data: what it carried was done then.
    if (isDroppedData(job.data)) return null
    try {
      const result = await processor(job, token)
      if (bytes > limits.keptMaxBytes) await this.dropData(job, bytes)
      return result
    } catch (error) {
      const final = error instanceof UnrecoverableError || (!(error instanceof DelayedError) && job.attemptsMade + 1 >= (job.opts.attempts ?? 1))
      if (final && bytes > limits.keptMaxBytes) await this.dropData(job, bytes)
      throw error
    }
  }

  /** Replaces the job's data in Redis by its size; if Redis refuses, the job keeps it (at most JOB_MAX_BYTES) and finishes all the same. */
  private async dropData(job: Job, bytes: number): Promise<void> {
    await job.updateData({ droppedDataBytes: bytes } satisfies DroppedData).catch(() => undefined)
  }
}
