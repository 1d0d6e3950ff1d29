import { AgentFleet } from '../agent-fleet.ts'
import type { BenchContext } from '../bench-context.ts'
import { DirectTransport } from '../direct-transport.ts'
import { CountedPrisma } from '../statement-counter.ts'
import { runPacedPhase } from './paced-phase.ts'

/** The rejected design: the same agents, each usage update its own upsert transaction on a shared pool (pg's default size). */
export function runDirectPhase(context: BenchContext) {
  const { options, db, hostPrefix, log } = context
  return runPacedPhase(context, 'direct', async (tracker) => {
    const counted = new CountedPrisma(db.url)
    const fleet = new AgentFleet({ hostPrefix, agents: options.agents, devices: options.devices, transport: new DirectTransport(counted.prisma, tracker), log })
    return {
      counted,
      fleet,
      // A direct write is durable when its call returns, and the fleet waits for its calls.
      settle: async () => {},
      beginMeasuring: async () => {},
      sample: async () => ({}),
      finish: () => counted.close(),
    }
  })
}
