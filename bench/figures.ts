import type { BenchResults } from './bench-results.ts'

/** One line of the result table: the conductor's figure, its anchor from the same run, and the ratio. */
export interface Figure {
  figure: string
  conductor: string
  anchor: string
  ratio: number | null
  target?: string
  met?: boolean
  /**
   * `--quick` fails when a gated figure misses half its target (docs/performance.md): the ratios of two
   * rates measured in the same run, which the machine's load moves together, and the transaction count.
   * Absolute CPU times and latencies are not gated: a loaded machine moves them by itself.
   */
  gate?: { limit: string; passed: boolean /** A ratio of rates: judged only on a machine not loaded by other work. */; rates?: boolean }
  source: string
}

/** Half the target: a rate ratio at half of it, a cost or latency at twice it. */
const atLeastHalf = (value: number, target: number) => ({ limit: `≥ ${(target / 2).toFixed(2)}×`, passed: value >= target / 2, rates: true })
const atMostTwice = (value: number, target: number, unit: string) => ({ limit: `≤ ${n(target * 2)}${unit}`, passed: value <= target * 2 })
// The full bench's offer (1,000 agents × 8 updates a second) and the ceiling of transactions per 100k updates there.
const FULL_OFFER_PER_SECOND = 8000
const TRANSACTIONS_PER_100K_AT_FULL_OFFER = 25

const per100k = (count: number, updates: number) => (updates === 0 ? 0 : (count * 100_000) / updates)
const ratio = (value: number, anchor: number) => (anchor === 0 ? null : value / anchor)
const n = (value: number) => Math.round(value).toLocaleString('en-US')
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US')} ms`

export function figures(results: BenchResults): Figure[] {
  const { direct, conductor, rawQueue, conductorCapacity, reads, unnest, directCapacity, options } = results
  const flush = conductor.extra
  const conductorTx = per100k(conductor.sql.transactions, conductor.enqueued)
  const directTx = per100k(direct.sql.transactions, direct.durable)
  // The conductor's transactions follow the flush interval, not the load: the ceiling per 100k updates scales with the offer.
  const txTarget = (TRANSACTIONS_PER_100K_AT_FULL_OFFER * FULL_OFFER_PER_SECOND) / conductor.offeredPerSecond
  const flushMs = flush.flushes.reduce((sum, each) => sum + each.ms, 0)
  const flushRows = flush.flushes.reduce((sum, each) => sum + each.rows, 0)
  const flushRowsPerSecond = flushMs === 0 ? 0 : (flushRows * 1000) / flushMs
  const p99Target = options.flushIntervalMs + 100
  const http = reads.http
  const accepted = conductorCapacity.acceptedPerSecond
  const perUpdate = directCapacity.perUpdate.updatesPerSecond
  const perReport = directCapacity.perReport.updatesPerSecond
  const jobsRatio = conductorCapacity.jobsPerSecond / rawQueue.jobsPerSecond
  const cpuPerUpdate = conductorCapacity.accepted === 0 ? Number.POSITIVE_INFINITY : (conductorCapacity.cpu.workerSeconds * 1e6) / conductorCapacity.accepted
  const redisPerUpdate = conductorCapacity.accepted === 0 ? Number.POSITIVE_INFINITY : (conductorCapacity.cpu.redisSeconds * 1e6) / conductorCapacity.accepted
  const noOpCpuPerJob = (rawQueue.cpu.workerSeconds * 1e6) / rawQueue.jobs
  const noOpRedisPerJob = (rawQueue.cpu.redisSeconds * 1e6) / rawQueue.jobs
  const drained = `steady state: ${n(conductorCapacity.jobs)} and ${n(rawQueue.jobs)} jobs after a warm-up drain`
  return [
    {
      figure: 'SQL transactions / 100k updates',
      conductor: n(conductorTx),
      anchor: `direct ${n(directTx)}`,
      ratio: ratio(conductorTx, directTx),
      target: `≤ ${n(txTarget)}`,
      met: conductorTx <= txTarget,
      gate: atMostTwice(conductorTx, txTarget, ''),
      source: `pool hook, paced phase after warm-up; ≤ 25 at 8,000 updates/s, scaled to the ${n(conductor.offeredPerSecond)}/s offered`,
    },
    {
      figure: 'SQL statements / 100k updates',
      conductor: n(per100k(conductor.sql.statements, conductor.enqueued)),
      anchor: `direct ${n(per100k(direct.sql.statements, direct.durable))}`,
      ratio: ratio(per100k(conductor.sql.statements, conductor.enqueued), per100k(direct.sql.statements, direct.durable)),
      source: 'pool hook',
    },
    {
      figure: 'updates accepted/s vs direct per update',
      conductor: n(accepted),
      anchor: `direct per update ${n(perUpdate)}/s`,
      ratio: ratio(accepted, perUpdate),
      target: '≥ 15×',
      met: accepted >= 15 * perUpdate,
      gate: atLeastHalf(accepted / perUpdate, 15),
      source: `${drained}; direct: ${directCapacity.concurrency} upsert transactions in flight`,
    },
    {
      figure: 'updates accepted/s vs direct per report',
      conductor: n(accepted),
      anchor: `direct per report ${n(perReport)}/s`,
      ratio: ratio(accepted, perReport),
      target: '≥ 3×',
      met: accepted >= 3 * perReport,
      gate: atLeastHalf(accepted / perReport, 3),
      source: `each report (${options.devices} updates) one transaction, ${directCapacity.concurrency} in flight`,
    },
    {
      figure: 'updates accepted/s vs raw queue jobs/s',
      conductor: n(accepted),
      anchor: `raw queue ${n(rawQueue.jobsPerSecond)} jobs/s`,
      ratio: ratio(accepted, rawQueue.jobsPerSecond),
      source: drained,
    },
    {
      figure: 'write jobs/s vs no-op worker',
      conductor: n(conductorCapacity.jobsPerSecond),
      anchor: `no-op ${n(rawQueue.jobsPerSecond)} jobs/s`,
      ratio: jobsRatio,
      target: '≥ 0.7×',
      met: jobsRatio >= 0.7,
      gate: atLeastHalf(jobsRatio, 0.7),
      source: 'same jobs, same concurrency and retention, steady state',
    },
    {
      figure: 'conductor CPU µs / accepted update',
      conductor: cpuPerUpdate.toFixed(1),
      anchor: `no-op worker ${noOpCpuPerJob.toFixed(1)} µs/job`,
      ratio: null,
      target: '≤ 12',
      met: cpuPerUpdate <= 12,
      source: 'conductor process utime+stime over the measured drain (flushes included)',
    },
    {
      figure: 'Redis CPU µs / accepted update',
      conductor: redisPerUpdate.toFixed(1),
      anchor: `no-op worker's jobs ${noOpRedisPerJob.toFixed(1)} µs/job`,
      ratio: null,
      source: 'INFO cpu over the measured drain',
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
      source: 'flush interval + 100 ms',
    },
    {
      figure: 'read queue reads/s (max)',
      conductor: n(reads.readQueue.perSecond),
      anchor: `findUnique ${n(reads.findUnique.perSecond)}`,
      ratio: ratio(reads.readQueue.perSecond, reads.findUnique.perSecond),
      source: `closed loop, ${options.readConcurrency} in flight`,
    },
    {
      figure: 'read queue p50 / p99 at max',
      conductor: `${ms(reads.readQueue.latency.p50)} / ${ms(reads.readQueue.latency.p99)}`,
      anchor: `findUnique ${ms(reads.findUnique.latency.p50)} / ${ms(reads.findUnique.latency.p99)}`,
      ratio: ratio(reads.readQueue.latency.p99, reads.findUnique.latency.p99),
      source: 'ratio of p99s',
    },
    {
      figure: 'read queue p50 / p99 at 50% / 90%',
      conductor: `${ms(reads.readQueuePaced.at50.latency.p50)} / ${ms(reads.readQueuePaced.at50.latency.p99)}`,
      anchor: `at 90%: ${ms(reads.readQueuePaced.at90.latency.p50)} / ${ms(reads.readQueuePaced.at90.latency.p99)}`,
      ratio: null,
      target: 'p99 ≤ 5 ms at 50%',
      met: reads.readQueuePaced.at50.latency.p99 <= 5,
      source: `fixed rate ${n(reads.readQueuePaced.at50.perSecond)} and ${n(reads.readQueuePaced.at90.perSecond)} reads/s, from scheduled start`,
    },
    {
      figure: 'HTTP cached reads/s (max)',
      conductor: n(http.perSecond),
      anchor: `findUnique ${n(reads.findUnique.perSecond)}`,
      ratio: ratio(http.perSecond, reads.findUnique.perSecond),
      target: '≥ 20,000/s',
      met: http.perSecond >= 20_000,
      source: `autocannon, ${http.connections} connections, src/server.ts child`,
    },
    {
      figure: 'HTTP cached read p50 / p99 at max',
      conductor: `${ms(http.latency.p50)} / ${ms(http.latency.p99)}`,
      anchor: `findUnique ${ms(reads.findUnique.latency.p50)} / ${ms(reads.findUnique.latency.p99)}`,
      ratio: ratio(http.latency.p99, reads.findUnique.latency.p99),
      source: 'ratio of p99s',
    },
    {
      figure: 'HTTP cached read p50 / p99 at 50% / 90%',
      conductor: `${ms(reads.httpPaced.at50.latency.p50)} / ${ms(reads.httpPaced.at50.latency.p99)}`,
      anchor: `at 90%: ${ms(reads.httpPaced.at90.latency.p50)} / ${ms(reads.httpPaced.at90.latency.p99)}`,
      ratio: null,
      target: 'p99 ≤ 1 ms at 50%',
      met: reads.httpPaced.at50.latency.p99 <= 1,
      source: `autocannon overallRate ${n(reads.httpPaced.at50.perSecond)} and ${n(reads.httpPaced.at90.perSecond)}/s`,
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

/** The result table, aligned, as Markdown (docs/performance.md takes it as it is). */
export function formatTable(rows: Figure[]): string {
  const header = ['figure', 'conductor', 'anchor (same run)', 'ratio', 'target', 'met', '--quick fails unless']
  const cells = rows.map((row) => [
    row.figure,
    row.conductor,
    row.anchor,
    row.ratio === null ? '-' : formatRatio(row.ratio),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    row.gate?.limit ?? '',
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)))
  const line = (cell: string[]) => `| ${cell.map((text, column) => text.padEnd(widths[column]!)).join(' | ')} |`
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.map(line)].join('\n')
}

function formatRatio(value: number): string {
  if (value !== 0 && value < 0.01) return `1/${Math.round(1 / value).toLocaleString('en-US')}`
  return `${value.toFixed(2)}×`
}

/** The gated figures that missed half their target. */
export function failedGates(rows: Figure[]): Figure[] {
  return rows.filter((row) => row.gate && !row.gate.passed)
}
