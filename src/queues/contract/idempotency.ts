import { createHash } from 'node:crypto'
import { COMMAND_QUEUE } from './names.ts'

/** The longest Idempotency-Key or X-OpenStack-Request-ID taken as one. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255

/**
 * The job id of a command sent with an idempotency key: the same command, scope and key always name
 * the same job, so a retry joins the first job (running, or finished and kept) instead of adding a
 * second one. A hash, so any key is a valid BullMQ id.
 */
export function idempotentJobId(command: string, scope: string, key: string): string {
  return `idem-${createHash('sha256').update(`${command}\u0000${scope}\u0000${key}`).digest('hex')}`
}

/** Where the result of an idempotent command is kept once it completed, for IDEMPOTENCY_TTL_S. */
export function idempotentResultKey(prefix: string, jobId: string): string {
  return `${prefix}:${COMMAND_QUEUE}:result:${jobId}`
}

export function isIdempotentJobId(jobId: string | undefined): jobId is string {
  return jobId?.startsWith('idem-') === true
}
