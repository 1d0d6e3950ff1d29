import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Where a process's CPU went over a window: the share of its busy samples (idle left out) by part. */
export interface ProfileSummary {
  /** Samples in the window, and how many of them were busy (not idle). */
  samples: number
  busy: number
  /** Self time by part (BullMQ, ioredis, the conductor's src/, GC, ...), percent of the busy samples, largest first. */
  parts: { part: string; percent: number }[]
  /** The functions with the most self time, percent of the busy samples. */
  functions: { function: string; percent: number }[]
}

/** A window on the monotonic clock that V8's profiles and `process.hrtime` share on Linux (CLOCK_MONOTONIC), in µs. */
export interface ProfileWindow {
  startUs: number
  endUs: number
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

// The first pattern that matches a sample's own frame names its part.
const PARTS: [string, (url: string, name: string) => boolean][] = [
  ['idle', (_, name) => name === '(idle)'],
  ['GC', (_, name) => name === '(garbage collector)'],
  ['V8 and native code outside JavaScript', (_, name) => name === '(program)'],
  ['BullMQ', (url) => url.includes('/node_modules/bullmq/')],
  ['ioredis', (url) => /\/node_modules\/(ioredis|@ioredis|redis-parser|denque|cluster-key-slot)\//.test(url)],
  ['Prisma', (url) => /\/node_modules\/(@prisma|prisma)\//.test(url)],
  ['pg', (url) => /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types)\//.test(url)],
  ['Fastify', (url) => /\/node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|fast-json-stringify)\//.test(url)],
  ['zod and ajv', (url) => /\/node_modules\/(zod|ajv)\//.test(url)],
  ['pino', (url) => /\/node_modules\/pino/.test(url)],
  ["the conductor's own code (src/)", (url) => url.includes('/src/')],
  ['other dependencies', (url) => url.includes('/node_modules/')],
  ['Node.js (sockets, streams, timers) and built-ins', () => true],
]

/**
 * The summary of the main thread's profile in `dir` (node --cpu-prof --cpu-prof-dir), samples inside `window` only.
 * Files are named CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile; tsx's loader thread writes one too.
 */
export async function summarizeProfile(dir: string, window: ProfileWindow): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name))
  if (files.length !== 1) throw new Error(`expected one main-thread CPU profile in ${dir}, found ${files.length}`)
  const profile = JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as CpuProfile
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const byPart = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let at = profile.startTime
  let samples = 0
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    if (at < window.startUs || at > window.endUs) continue
    samples++
    const frame = frames.get(profile.samples[i]!)!
    const part = PARTS.find(([, matches]) => matches(frame.url, frame.functionName))![0]
    byPart.set(part, (byPart.get(part) ?? 0) + 1)
    if (part === 'idle') continue
    const where = frame.url ? ` ${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${frame.lineNumber + 1}` : ''
    const name = `${frame.functionName || '(anonymous)'}${where}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1)
  }
  const busy = samples - (byPart.get('idle') ?? 0)
  const percent = (count: number) => +((count * 100) / Math.max(1, busy)).toFixed(1)
  const largest = <T>(entries: [string, number][], make: (name: string, share: number) => T, count: number) =>
    entries
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, share]) => make(name, percent(share)))
  return {
    samples,
    busy,
    parts: largest(
      [...byPart].filter(([part]) => part !== 'idle'),
      (part, share) => ({ part, percent: share }),
      PARTS.length,
    ),
    functions: largest([...byFunction], (name, share) => ({ function: name, percent: share }), 12),
  }
}
