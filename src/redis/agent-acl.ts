import { INVENTORY_QUEUE, WRITE_QUEUE } from '../queues/contract/names.ts'

/** The queues an agent adds jobs to: usage writes and inventory reports. */
export const AGENT_QUEUES = [WRITE_QUEUE, INVENTORY_QUEUE] as const

/**
 * What a producer's connection runs before any job: ioredis's ready check and BullMQ's version check
 * (INFO), the client name it announces (CLIENT SETNAME), and the agent's start-up check (PING); and
 * SCRIPT LOAD/EXISTS, which ioredis uses for BullMQ's scripts in a pipeline. None touches a key.
 * ioredis's CLIENT SETINFO (Redis 7.2) is left out: it ignores a refusal, and Redis 7.0 does not
 * know the subcommand, so a rule naming it would be refused there.
 */
const KEYLESS_COMMANDS = ['info', 'ping', 'client|setname', 'script|load', 'script|exists']

/** The reads of BullMQ's add scripts and of getCounts (the producer client's check of the write queue's depth). */
const READ_COMMANDS = [
  'exists',
  'get',
  'hget',
  'hmget',
  'lindex',
  'llen',
  'lpos',
  'lrange',
  'pttl',
  'scard',
  'zcard',
  'zcount',
  'zrange',
  'zrevrangebyscore',
  'zscore',
]

/** The writes that add a job: the next id, the job's hash, the wait (or paused) list, the marker, the events stream, the delayed set. None removes anything. */
const ADD_COMMANDS = ['incr', 'hmset', 'hset', 'lpush', 'rpush', 'zadd', 'xadd']

/** The keys of a queue an add writes: never `meta` (pausing the queue), `active` or `completed`. */
const ADDED_KEYS = ['id', 'wait', 'paused', 'marker', 'events', '[0-9]*']

/**
 * The `ACL SETUSER` rules (Redis 7: key permissions and selectors) of a Redis user for agents that
 * speak BullMQ directly. It may add jobs to `<prefix>:conductor-writes` and `<prefix>:conductor-inventory`
 * and nothing else: not the write buffer, the caches, the command, read or flush queues, nor the flush
 * job schedulers; and in its own queues it may add, never remove (no DEL, ZREM or RPOP of the write
 * queue: an acknowledged write stays), nor pause (the queues' `meta` is read-only to it). Redis checks
 * every command a script calls against these rules, and all of one rule set must allow it:
 * - the root rules: the keyless commands, reads of the two queues, and the add commands on the keys
 *   an add writes;
 * - a selector for EVALSHA/EVAL, which Redis lets name a key only with read and write permission: any
 *   key of the two queues, with no other command;
 * - a selector for the inventory report's deduplication (each host's newest snapshot replaces a waiting
 *   one): the inventory queue's deduplication keys, job keys and delayed set, with DEL, SET, ZREM and
 *   the like. An agent may thus delay another host's waiting snapshot until that host's next one.
 * `reset` first, so the rules replace whatever the user had; its password is set apart
 * (docs/operations.md). `prefix` is the BullMQ prefix (queuePrefix: `{CONDUCTOR_PREFIX}` on a Cluster).
 */
export function agentAclRules(prefix: string): string[] {
  const [writes, inventory] = AGENT_QUEUES.map((queue) => `${prefix}:${queue}`) as [string, string]
  return [
    'reset',
    'on',
    'resetchannels',
    '-@all',
    ...[...KEYLESS_COMMANDS, ...READ_COMMANDS, ...ADD_COMMANDS].map((command) => `+${command}`),
    `%R~${writes}:*`,
    `%R~${inventory}:*`,
    // Read and write on one pattern: Redis never combines the permissions of two patterns for one key.
    ...ADDED_KEYS.map((key) => `%RW~${writes}:${key}`),
    ...[...ADDED_KEYS, 'delayed'].map((key) => `%RW~${inventory}:${key}`),
    `(%RW~${writes}:* %RW~${inventory}:* +evalsha +eval)`,
    `(%RW~${inventory}:de:* %RW~${inventory}:dn:* %RW~${inventory}:[0-9]* %RW~${inventory}:delayed +del +set +persist +pttl +zrem +hset +get +exists)`,
  ]
}
