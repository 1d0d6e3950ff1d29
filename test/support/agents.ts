import { Agent } from '../../src/agent/agent.ts'
import { DummyDriver, type DummyDriverOptions } from '../../src/drivers/dummy/dummy-driver.ts'
import type { Harness } from './harness.ts'

/** An agent with the dummy driver whose reports the test sends itself (its timers never fire). */
export function testAgent(harness: Harness, options: DummyDriverOptions) {
  const driver = new DummyDriver(options)
  const agent = new Agent({
    hostname: options.hostname,
    driver,
    client: harness.client,
    reportIntervalMs: 3_600_000,
    usageIntervalMs: 3_600_000,
    log: harness.log,
  })
  return { agent, driver }
}

/** The stored tree of one host, as an operator would list it. */
export async function storedHost(harness: Harness, hostname: string) {
  return harness.prisma.device.findMany({
    where: { hostname },
    orderBy: { id: 'asc' },
    include: {
      controlpathIds: true,
      deployables: { orderBy: { id: 'asc' }, include: { attributes: { orderBy: { key: 'asc' } }, attachHandles: { orderBy: { id: 'asc' } } } },
    },
  })
}
