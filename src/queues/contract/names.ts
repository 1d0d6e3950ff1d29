/** Queue and job names of the public job contract (see docs/job-contract.md). */
export const WRITE_QUEUE = 'conductor-writes'
export const READ_QUEUE = 'conductor-reads'
export const INVENTORY_QUEUE = 'conductor-inventory'
export const COMMAND_QUEUE = 'conductor-commands'
/** Internal: the flush scheduler's queue. Producers never add to it. */
export const FLUSH_QUEUE = 'conductor-flush'

export const WRITE_JOB = 'write'
export const WRITE_BATCH_JOB = 'write-batch'
export const READ_JOB = 'read'
export const FLUSH_JOB = 'flush'
export const INVENTORY_REPORT_JOB = 'report'

/** Largest `writes` array one `write-batch` job may carry. */
export const WRITE_BATCH_MAX = 10_000
/** Longest entity key, in characters. */
export const KEY_MAX_LENGTH = 255
/** Deepest nesting of arrays and objects a written value may have; deeper ones would overflow the validators' stack. */
export const VALUE_MAX_DEPTH = 32
