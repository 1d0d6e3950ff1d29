import type { Config } from '../config.ts'
import { entityNames } from '../queues/contract/entities.ts'
import { KEY_MAX_LENGTH } from '../queues/contract/names.ts'
import { viewKinds } from '../cache/view-cache.ts'
import { CALL_JOBS_KEPT } from '../queues/client/conductor-client.ts'
import { INVALID_LISTED_MAX, REASON_MAX_CHARS } from '../queues/contract/writes.ts'

// The bounds docs/operations.md#memory states, term by term; the fault suite checks Redis and the
// conductor against them (test/faults/memory.test.ts).

/** Redis with the conductor's scripts, queue metadata and connections, before any data. */
const REDIS_BASE_BYTES = 16 * 1024 * 1024
/** A key of KEY_MAX_LENGTH characters, 4 bytes each in UTF-8. */
const KEY_BYTES = KEY_MAX_LENGTH * 4
/** What Redis spends on one hash field or sorted-set member besides its bytes (dict entry, sds headers, allocator rounding). */
const ENTRY_OVERHEAD = 96
/** A version (a safe integer as text). */
const VERSION_BYTES = 20
/** A job's hash besides its data and result: name, options, timestamps, failed reason, stack traces. */
const JOB_OVERHEAD = 4096
/** BullMQ's default events stream length per queue. */
const EVENTS_PER_QUEUE = 10_000
/** A write-batch result: its invalid writes listed, each reason cut short (3 bytes a character at most). */
const WRITE_RESULT_BYTES = INVALID_LISTED_MAX * (REASON_MAX_CHARS * 3 + 40) + 100
/** The queues whose finished jobs the configuration keeps: writes, reads, flush, inventory, commands, Placement sync, Nova events. */
const QUEUES = 7

/** Node.js, Fastify, Prisma and the workers at rest: measured at 117 to 134 MB, with room. */
const PROCESS_BASE_BYTES = 320 * 1024 * 1024
/**
 * A running job's data as objects and the copies its processing makes, against its JSON: a 50 MB
 * write-batch of 10,000 values, parsed and accepted, took the process 570 MB above rest (about 11×).
 */
const PARSED_FACTOR = 12

export interface MemoryTerm {
  name: string
  bytes: number
}

/** What the deployment adds beyond the configuration: its conductors and hosts. */
export interface Deployment {
  conductors: number
  hosts: number
}

type BudgetConfig = Pick<
  Config,
  | 'PENDING_MAX_KEYS'
  | 'CACHE_MAX_KEYS'
  | 'FLUSH_SHARDS'
  | 'FLUSH_BATCH_MAX'
  | 'WRITE_VALUE_MAX_BYTES'
  | 'DEAD_LETTER_MAX'
  | 'WRITE_QUEUE_MAX_DEPTH'
  | 'WRITE_CONCURRENCY'
  | 'INVENTORY_CONCURRENCY'
  | 'COMMAND_CONCURRENCY'
  | 'READ_CONCURRENCY'
  | 'JOB_MAX_BYTES'
  | 'JOB_KEPT_DATA_MAX_BYTES'
  | 'JOBS_KEEP_COMPLETED'
  | 'JOBS_KEEP_FAILED'
>

/** The most Redis memory (used_memory) the conductors of one prefix use, term by term. */
export function redisMemoryTerms(config: BudgetConfig, deployment: Deployment): MemoryTerm[] {
  const entities = entityNames.length
  const shards = config.FLUSH_SHARDS
  const row = 2 * KEY_BYTES + VERSION_BYTES + config.WRITE_VALUE_MAX_BYTES + 2 * ENTRY_OVERHEAD
  const cachedRow = row + KEY_BYTES + 8 + ENTRY_OVERHEAD
  const job = config.JOB_MAX_BYTES + JOB_OVERHEAD
  const keptData = Math.min(config.JOB_KEPT_DATA_MAX_BYTES, config.JOB_MAX_BYTES) + JOB_OVERHEAD
  // Results: a write-batch's, a read's (one value); the other queues' are small.
  const results = WRITE_RESULT_BYTES + config.WRITE_VALUE_MAX_BYTES + (QUEUES - 2) * 1024
  return [
    { name: 'base', bytes: REDIS_BASE_BYTES },
    // Pending and flushing together, per shard PENDING_MAX_KEYS / FLUSH_SHARDS rounded up.
    { name: 'write buffer', bytes: entities * (config.PENDING_MAX_KEYS + shards) * row },
    // At rest CACHE_MAX_KEYS; within a flush's release one batch more before the coldest are evicted.
    { name: 'entity cache', bytes: entities * (config.CACHE_MAX_KEYS + shards * (1 + config.FLUSH_BATCH_MAX)) * cachedRow },
    { name: 'view cache', bytes: viewKinds.length * (config.CACHE_MAX_KEYS + 1) * cachedRow },
    { name: 'dead letters', bytes: entities * shards * config.DEAD_LETTER_MAX * (KEY_BYTES + config.WRITE_VALUE_MAX_BYTES + 2048 + ENTRY_OVERHEAD) },
    // Waiting and delayed up to the depth, plus those running; an inventory report per host.
    { name: 'write queue', bytes: (config.WRITE_QUEUE_MAX_DEPTH + deployment.conductors * config.WRITE_CONCURRENCY) * job },
    { name: 'inventory queue', bytes: deployment.hosts * job },
    // One stored tree per host: what its reports carry, with row ids.
    { name: 'inventory cache', bytes: deployment.hosts * 2 * config.JOB_MAX_BYTES },
    { name: 'kept jobs', bytes: (QUEUES * keptData + results) * (config.JOBS_KEEP_COMPLETED + config.JOBS_KEEP_FAILED) },
    { name: 'kept reads', bytes: 2 * CALL_JOBS_KEPT * (JOB_OVERHEAD + config.WRITE_VALUE_MAX_BYTES) },
    { name: 'events streams', bytes: EVENTS_PER_QUEUE * (results + QUEUES * 512) },
  ]
}

/** The most resident memory of one conductor process (the API and the workers), term by term. */
export function processMemoryTerms(config: BudgetConfig): MemoryTerm[] {
  const jobs = config.WRITE_CONCURRENCY + config.INVENTORY_CONCURRENCY + config.COMMAND_CONCURRENCY
  const row = KEY_BYTES + config.WRITE_VALUE_MAX_BYTES
  return [
    { name: 'base', bytes: PROCESS_BASE_BYTES },
    // A job's JSON as Redis returned it and its parsed objects, for each job running at once.
    { name: 'jobs running', bytes: jobs * config.JOB_MAX_BYTES * (1 + PARSED_FACTOR) },
    { name: 'reads running', bytes: config.READ_CONCURRENCY * row * (1 + PARSED_FACTOR) },
    // A flush holds its batch as Redis returned it and as the SQL it sends.
    { name: 'flush batches', bytes: entityNames.length * config.FLUSH_SHARDS * config.FLUSH_BATCH_MAX * row * 3 },
  ]
}

export const totalBytes = (terms: MemoryTerm[]) => terms.reduce((sum, term) => sum + term.bytes, 0)
