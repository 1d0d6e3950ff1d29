import { UnrecoverableError } from 'bullmq'

/** A job its queue cannot take (unknown name, data breaking the contract): retrying cannot change that. */
export class InvalidJobError extends UnrecoverableError {
  override name = 'InvalidJobError'
}
