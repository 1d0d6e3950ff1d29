import type { AgentFleet, PacedOutcome } from '../agent-fleet.ts'
import type { BenchContext } from '../bench-context.ts'
import { DurabilityTracker, type SecondSample } from '../durability-tracker.ts'
import type { LatencySummary } from '../latency-summary.ts'
import type { CountedPrisma, StatementCounts } from '../statement-counter.ts'

/** One design under test in a paced phase: its agents, its database pool, and how it settles. */
export interface PacedSubject<Extra> {
  counted: CountedPrisma
  fleet: AgentFleet
  /** Resolves once every write sent so far is durable. */
  settle(): Promise<void>
  /** Called once the warm-up has settled, as measuring starts. */
  beginMeasuring(): Promise<void>
  /** Fields of its own for the progress line. */
  sample(): Promise<Record<string, number>>
  /** Stops the subject (closing its pool) and returns its own figures. */
  finish(): Promise<Extra>
}

export interface PacedResult<Extra> {
  offeredPerSecond: number
  paced: PacedOutcome
  /** Writes enqueued and made durable while measuring (after the warm-up report). */
  enqueued: number
  durable: number
  /** From the first paced report until every write is durable. */
  seconds: number
  durablePerSecond: number
  /** Sent while measuring, counted per pool connection. */
  sql: StatementCounts
  /** The whole phase, warm-up included: the pool hook's count and pg_stat_database's, as a cross-check. */
  phaseTransactions: { poolHook: number; pgStatDatabase: number }
  latency: LatencySummary
  timeline: SecondSample[]
  extra: Extra
}

/**
 * Runs one design under the load: one warm-up report per agent (first sight of every key),
 * then `duration / interval` reports per agent on the fleet's clock, measured until all is durable.
 */
export async function runPacedPhase<Extra>(
  context: BenchContext,
  name: string,
  open: (tracker: DurabilityTracker) => Promise<PacedSubject<Extra>>,
): Promise<PacedResult<Extra>> {
  const { options, progress, db } = context
  const pgStatBefore = await db.committedTransactions()
  const tracker = new DurabilityTracker()
  const subject = await open(tracker)
  progress.line(name, { warmup: 'one report per agent' })
  await subject.fleet.reportOnce()
  await subject.settle()
  const warmup = subject.counted.snapshot()
  tracker.reset()
  await subject.beginMeasuring()

  let last = { enqueued: 0, durable: 0 }
  const stop = progress.every(1000, async () => {
    const own = await subject.sample()
    const now = { enqueued: tracker.enqueuedTotal, durable: tracker.durableTotal }
    progress.line(name, {
      'enqueued/s': now.enqueued - last.enqueued,
      'durable/s': now.durable - last.durable,
      outstanding: now.enqueued - now.durable,
      ...own,
    })
    last = now
  })
  const started = Date.now()
  const rounds = Math.max(1, Math.round(options.durationS / options.intervalS))
  let paced: PacedOutcome
  try {
    paced = await subject.fleet.runPaced(rounds, options.intervalS * 1000)
    await subject.settle()
  } finally {
    stop()
  }
  const seconds = (Date.now() - started) / 1000
  const end = subject.counted.snapshot()
  const extra = await subject.finish()
  const pgStatAfter = await db.committedTransactions()
  return {
    offeredPerSecond: (options.agents * options.devices) / options.intervalS,
    paced,
    enqueued: tracker.enqueuedTotal,
    durable: tracker.durableTotal,
    seconds,
    durablePerSecond: tracker.durableTotal / seconds,
    sql: {
      statements: end.statements - warmup.statements,
      transactions: end.transactions - warmup.transactions,
      rollbacks: end.rollbacks - warmup.rollbacks,
    },
    phaseTransactions: { poolHook: end.transactions, pgStatDatabase: pgStatAfter - pgStatBefore },
    latency: tracker.summary(),
    timeline: tracker.timeline(),
    extra,
  }
}
