import type { BenchResults } from './bench-results.ts'
import { renderChart } from './svg-chart.ts'

const DIRECT = '#d62728'
const CONDUCTOR = '#1f77b4'
const CONDUCTOR_LIGHT = '#7fb3e0'
const RAW = '#7f7f7f'

/** Throughput and latency over time of one run, as SVG. */
export function resultsChart(results: BenchResults): string {
  const { direct, conductor, rawQueue, conductorCapacity, options, machine } = results
  const over = <T extends { second: number }>(samples: T[], value: (sample: T) => number): [number, number][] =>
    samples.map((sample) => [sample.second, value(sample)])
  return renderChart(
    'Cyborg conductor vs direct PostgreSQL writes',
    [
      `${options.agents} agents × ${options.devices} deployables every ${options.intervalS} s, flush every ${options.flushIntervalMs} ms, batch ≤ ${options.batchMax}; ${results.startedAt}`,
      `${machine.cpus} CPUs (load ${machine.loadAverage.start.toFixed(1)}→${machine.loadAverage.end.toFixed(1)}), node ${machine.node}, Redis ${machine.redis}, PostgreSQL ${machine.postgres}`,
    ],
    [
      {
        title: 'Usage updates per second (paced phases)',
        xLabel: 'seconds into the measured phase',
        yLabel: 'updates/s',
        series: [
          { name: 'direct: durable', color: DIRECT, points: over(direct.timeline, (s) => s.durable) },
          { name: 'conductor: enqueued', color: CONDUCTOR_LIGHT, points: over(conductor.timeline, (s) => s.enqueued) },
          { name: 'conductor: durable', color: CONDUCTOR, points: over(conductor.timeline, (s) => s.durable) },
        ],
      },
      {
        title: 'accept→durable latency, by second of commit',
        xLabel: 'seconds into the measured phase',
        yLabel: 'ms (log)',
        logY: true,
        series: [
          { name: 'direct p99', color: DIRECT, points: over(direct.timeline, (s) => s.p99) },
          { name: 'direct p50', color: '#f4a3a3', points: over(direct.timeline, (s) => s.p50) },
          { name: 'conductor p99', color: CONDUCTOR, points: over(conductor.timeline, (s) => s.p99) },
          { name: 'conductor p50', color: CONDUCTOR_LIGHT, points: over(conductor.timeline, (s) => s.p50) },
        ],
      },
      {
        title: `Capacity: draining ${rawQueue.jobs.toLocaleString('en-US')} queued write-batch jobs`,
        xLabel: 'seconds into the drain',
        yLabel: 'jobs/s',
        series: [
          { name: 'no-op worker', color: RAW, points: over(rawQueue.timeline, (s) => s.jobsPerSecond) },
          { name: 'conductor writes', color: CONDUCTOR, points: over(conductorCapacity.timeline, (s) => s.jobsPerSecond) },
        ],
      },
    ],
  )
}
