import { afterEach, expect, test } from 'vitest'
import { runEntry, type Child } from '../support/child.ts'
import { FAKE_NVIDIA_SMI_BIN, fixtureRoot, NVIDIA_HOST_WHITELIST } from '../support/hardware.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import { TEST_REDIS_URL } from '../support/services.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: Harness | undefined
let child: Child | undefined
afterEach(async () => {
  if (child?.process.exitCode === null) {
    child.process.kill('SIGKILL')
    await child.exited
  }
  await harness?.close()
  harness = child = undefined
})

const onFixtureHost = {
  SYSFS_ROOT: fixtureRoot('nvidia-8gpu'),
  PCI_PASSTHROUGH_WHITELIST: NVIDIA_HOST_WHITELIST,
  PATH: `${FAKE_NVIDIA_SMI_BIN}:${process.env.PATH}`,
}

test('npm run agent with AGENT_DRIVERS=nvidia_gpu,pci reports the fixture host’s GPUs and NIC, and its usage', async () => {
  harness = await startHarness({ FLUSH_INTERVAL_MS: '100' })
  const host = harness.key('gpu-cli')
  child = runEntry(
    'dist/agent/main.js',
    { ...onFixtureHost, REDIS_URL: TEST_REDIS_URL, CONDUCTOR_PREFIX: harness.prefix, AGENT_DRIVERS: 'nvidia_gpu,pci', AGENT_USAGE_INTERVAL_S: '0.2' },
    ['--host', host],
  )
  await waitFor(async () => (await harness!.prisma.device.count({ where: { hostname: host } })) === 9, 'the agent’s 9 devices in PostgreSQL')
  await waitFor(async () => (await harness!.buffer.stats('usage')).accepted >= 18, 'two usage reports of 9 deployables')
  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
})

test('an unknown name in AGENT_DRIVERS stops the agent, listing the known drivers', async () => {
  child = runEntry('dist/agent/main.js', { REDIS_URL: TEST_REDIS_URL, AGENT_DRIVERS: 'fake,nvidia' }, ['--host', 'h'])
  expect(await child.exited).toBe(2)
  expect(child.output()).toContain(
    'cannot start the agent: AGENT_DRIVERS: unknown accelerator driver "nvidia"; known drivers: fake, nvidia_gpu, pci, fake_driver, nvidia_gpu_driver, pci_driver',
  )
})

test('npm run discover prints what a driver finds, with no Redis to talk to', async () => {
  child = runEntry('dist/agent/discover.js', { ...onFixtureHost, REDIS_URL: 'redis://127.0.0.1:1' }, ['--driver', 'nvidia_gpu', '--host', 'gpu-1'])
  expect(await child.exited).toBe(0)
  const found = JSON.parse(child.output())
  expect(found.hostname).toBe('gpu-1')
  expect(found.devices.map((device: { controlpath_id: { cpid_info: string } }) => JSON.parse(device.controlpath_id.cpid_info).bus)).toEqual([
    '1a',
    '1b',
    '3d',
    '3e',
    '88',
    '89',
    'b1',
    'b2',
  ])
  expect(found.usage).toHaveLength(8)
  expect(found.usage[2]).toEqual({
    deployableName: 'gpu-1_0000_3d_00_0',
    metrics: { accelerators_in_use: 0, utilization_percent: 87, memory_used_mib: 11342, power_w: 68.95, temperature_c: 61 },
  })

  child = runEntry('dist/agent/discover.js', {}, ['--driver', 'gpu'])
  expect(await child.exited).toBe(2)
  expect(child.output()).toContain('unknown accelerator driver "gpu"; known drivers: fake, nvidia_gpu, pci')
  expect(child.output()).toContain('usage: npm run discover -- --driver NAME[,NAME...] [--host NAME]')
})
