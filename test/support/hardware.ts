import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'

/**
 * The fixture sysfs trees of test/fixtures/sysfs: three built by test/fixtures/build-sysfs.ts in real hosts' layouts, and h100-vm,
 * the attributes and links the drivers read, copied from a VM with one H100 (its nvidia-smi output in nvidia-smi/h100-vm).
 */
export const SYSFS_FIXTURES = join(import.meta.dirname, '../fixtures/sysfs')
export const fixtureRoot = (host: 'nvidia-8gpu' | 'intel-fpga-qat' | 'empty-host' | 'h100-vm') => join(SYSFS_FIXTURES, host)

/** The directory of the fake nvidia-smi, which prints the recorded CSV of the nvidia-8gpu host. */
export const FAKE_NVIDIA_SMI_BIN = join(import.meta.dirname, '../fixtures/nvidia-smi/bin')

/** The whitelist of the nvidia-8gpu host: two T4s as vGPUs (nvidia-223, T4-2B), the rest passthrough, the ConnectX-6's VFs. */
export const NVIDIA_HOST_WHITELIST = JSON.stringify([
  { vendor_id: '10de', product_id: '1eb8', address: '0000:b1:00.0', vgpu_type: 'nvidia-223' },
  { vendor_id: '10de', address: '*:b2:00.*', vgpu_type: 'nvidia-223' },
  { vendor_id: '10de' },
  { address: '0000:5e:00.0', resource_class: 'CUSTOM_NIC_CX6DX', physical_network: 'physnet2' },
])

/** The whitelist of the intel-fpga-qat host: the PAC by its ids, the QAT adapter's VFs by theirs. */
export const INTEL_HOST_WHITELIST = JSON.stringify([
  { vendor_id: '8086', product_id: '09c4' },
  { vendor_id: '8086', product_id: '37c9' },
])

/** A copy of a fixture tree (links kept as links) that a test may change, and its removal. */
export async function fixtureCopy(host: Parameters<typeof fixtureRoot>[0]) {
  const root = await mkdtemp(join(tmpdir(), `sysfs-${host}-`))
  await cp(fixtureRoot(host), root, { recursive: true, verbatimSymlinks: true })
  return { root, remove: () => rm(root, { recursive: true, force: true }) }
}

/** A logger whose lines the test reads back. */
export function capturedLog() {
  const lines: { level: number; msg: string }[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...String(chunk)
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      )
      done()
    },
  })
  return { log: pino({ level: 'info' }, stream), lines, warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg) }
}
