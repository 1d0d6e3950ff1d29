import type { BenchResults } from './bench-results.ts'

/** One line of the result table: the conductor's figure, its anchor from the same run, and the ratio. */
export interface Figure {
  figure: string
  conductor: string
  anchor: string
  ratio: number | null
  target?: string
  met?: boolean
  source: string
}

const per100k = (count: number, updates: number) => (updates === 0 ? 0 : (count * 100_000) / updates)
const ratio = (value: number, anchor: number) => (anchor === 0 ? null : value / anchor)
const n = (value: number) => Math.round(value).toLocaleString('en-US')
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US')} ms`

export function figures(results: BenchResults): Figure[] {
  const { direct, conductor, rawQueue, conductorCapacity, reads, unnest, options } = results
  const flush = conductor.extra
  const conductorTx = per100k(conductor.sql.transactions, conductor.enqueued)
  const directTx = per100k(direct.sql.transactions, direct.durable)
  const directSaturated = direct.durablePerSecond < 0.95 * direct.offeredPerSecond
  const directAnchor = `direct ${n(direct.durablePerSecond)}/s (${directSaturated ? 'saturated' : 'kept up'}; offered ${n(direct.offeredPerSecond)}/s)`
  const flushMs = flush.flushes.reduce((sum, each) => sum + each.ms, 0)
  const flushRows = flush.flushes.reduce((sum, each) => sum + each.rows, 0)
  const flushRowsPerSecond = flushMs === 0 ? 0 : (flushRows * 1000) / flushMs
  const p99Target = options.flushIntervalMs + 250
  const http = reads.http
  return [
    {
      figure: 'SQL transactions / 100k updates',
      conductor: n(conductorTx),
      anchor: `direct ${n(directTx)}`,
      ratio: ratio(conductorTx, directTx),
      target: '≤ 1/1000',
      met: conductorTx * 1000 <= directTx,
      source: 'pool hook, paced phase after warm-up (pg_stat_database in JSON)',
    },
    {
      figure: 'SQL statements / 100k updates',
      conductor: n(per100k(conductor.sql.statements, conductor.enqueued)),
      anchor: `direct ${n(per100k(direct.sql.statements, direct.durable))}`,
      ratio: ratio(per100k(conductor.sql.statements, conductor.enqueued), per100k(direct.sql.statements, direct.durable)),
      source: 'pool hook',
    },
    {
      figure: 'updates accepted/s (capacity)',
      conductor: n(conductorCapacity.acceptedPerSecond),
      anchor: directAnchor,
      ratio: ratio(conductorCapacity.acceptedPerSecond, direct.durablePerSecond),
      target: '≥ 10×',
      met: conductorCapacity.acceptedPerSecond >= 10 * direct.durablePerSecond,
      source: 'conductor: drain of queued reports; direct: paced phase',
    },
    {
      figure: 'updates accepted/s vs raw queue jobs/s',
      conductor: n(conductorCapacity.acceptedPerSecond),
      anchor: `raw queue ${n(rawQueue.jobsPerSecond)} jobs/s`,
      ratio: ratio(conductorCapacity.acceptedPerSecond, rawQueue.jobsPerSecond),
      target: '≥ 5×',
      met: conductorCapacity.acceptedPerSecond >= 5 * rawQueue.jobsPerSecond,
      source: `drain of ${n(rawQueue.jobs)} queued write-batch jobs each`,
    },
    {
      figure: 'write jobs/s vs no-op worker',
      conductor: n(conductorCapacity.jobsPerSecond),
      anchor: `no-op ${n(rawQueue.jobsPerSecond)} jobs/s`,
      ratio: ratio(conductorCapacity.jobsPerSecond, rawQueue.jobsPerSecond),
      target: '≥ 0.7×',
      met: conductorCapacity.jobsPerSecond >= 0.7 * rawQueue.jobsPerSecond,
      source: 'same jobs, same concurrency and retention',
    },
    {
      figure: 'updates durable/s (paced)',
      conductor: n(conductor.durablePerSecond),
      anchor: `direct ${n(direct.durablePerSecond)}`,
      ratio: ratio(conductor.durablePerSecond, direct.durablePerSecond),
      source: `offered ${n(conductor.offeredPerSecond)}/s to each`,
    },
    {
      figure: 'accept→durable p50',
      conductor: ms(conductor.latency.p50),
      anchor: `direct ${ms(direct.latency.p50)}`,
      ratio: ratio(conductor.latency.p50, direct.latency.p50),
      source: 'enqueue → flush commit (hook) / → upsert returned',
    },
    {
      figure: 'accept→durable p99',
      conductor: ms(conductor.latency.p99),
      anchor: `direct ${ms(direct.latency.p99)}`,
      ratio: ratio(conductor.latency.p99, direct.latency.p99),
      target: `≤ ${p99Target} ms`,
      met: conductor.latency.p99 <= p99Target,
      source: 'as above',
    },
    {
      figure: 'read queue reads/s',
      conductor: n(reads.readQueue.perSecond),
      anchor: `findUnique ${n(reads.findUnique.perSecond)}`,
      ratio: ratio(reads.readQueue.perSecond, reads.findUnique.perSecond),
      source: `closed loop, ${options.readConcurrency} in flight`,
    },
    {
      figure: 'read queue p50 / p99',
      conductor: `${ms(reads.readQueue.latency.p50)} / ${ms(reads.readQueue.latency.p99)}`,
      anchor: `findUnique ${ms(reads.findUnique.latency.p50)} / ${ms(reads.findUnique.latency.p99)}`,
      ratio: ratio(reads.readQueue.latency.p99, reads.findUnique.latency.p99),
      source: 'ratio of p99s',
    },
    {
      figure: 'HTTP cached reads/s',
      conductor: n(http.perSecond),
      anchor: `findUnique ${n(reads.findUnique.perSecond)}`,
      ratio: ratio(http.perSecond, reads.findUnique.perSecond),
      target: '≥ 10,000/s',
      met: http.perSecond >= 10_000,
      source: `autocannon, ${http.connections} connections, src/server.ts child`,
    },
    {
      figure: 'HTTP cached read p50 / p99',
      conductor: `${ms(http.latency.p50)} / ${ms(http.latency.p99)}`,
      anchor: `findUnique ${ms(reads.findUnique.latency.p50)} / ${ms(reads.findUnique.latency.p99)}`,
      ratio: ratio(http.latency.p99, reads.findUnique.latency.p99),
      target: 'p99 ≤ 2 ms',
      met: http.latency.p99 <= 2,
      source: 'ratio of p99s',
    },
    {
      figure: 'Redis bytes per 10k keys',
      conductor: n((flush.redis.entityBytes * 10_000) / flush.redis.keys),
      anchor: `used_memory at end ${n(results.redisUsedMemoryAtEnd / 2 ** 20)} MiB`,
      ratio: null,
      source: `MEMORY USAGE of the entity's hashes, ${n(flush.redis.keys)} keys`,
    },
    {
      figure: 'PostgreSQL rows/s in flushes',
      conductor: n(flushRowsPerSecond),
      anchor: `raw unnest upsert ${n(unnest.rowsPerSecond)}`,
      ratio: ratio(flushRowsPerSecond, unnest.rowsPerSecond),
      source: `${flush.flushes.length} flush transactions vs ${unnest.batches} × ${n(unnest.rowsPerBatch)} rows`,
    },
    {
      figure: 'writes coalesced (dedup ratio)',
      conductor: `${n(flush.accepted - flush.flushed)} of ${n(flush.accepted)}`,
      anchor: `${n(flush.flushed)} rows written`,
      ratio: ratio(flush.accepted, flush.flushed),
      source: 'buffer counters: accepted / flushed',
    },
    {
      figure: 'stale writes dropped',
      conductor: `${n(flush.stale)} paced, ${n(conductorCapacity.stale)} capacity`,
      anchor: '-',
      ratio: null,
      source: 'buffer counters',
    },
  ]
}

/** The result table, aligned, as Markdown (README's Performance section takes it as it is). */
export function formatTable(rows: Figure[]): string {
  const header = ['figure', 'conductor', 'anchor (same run)', 'ratio', 'target', 'met']
  const cells = rows.map((row) => [
    row.figure,
    row.conductor,
    row.anchor,
    row.ratio === null ? '-' : formatRatio(row.ratio),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)))
  const line = (cell: string[]) => `| ${cell.map((text, column) => text.padEnd(widths[column]!)).join(' | ')} |`
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.map(line)].join('\n')
}

function formatRatio(value: number): string {
  if (value !== 0 && value < 0.01) return `1/${Math.round(1 / value).toLocaleString('en-US')}`
  return `${value.toFixed(2)}×`
}
