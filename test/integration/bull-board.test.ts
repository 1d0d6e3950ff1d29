import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterEach, expect, test } from 'vitest'
import { WRITE_JOB } from '../../src/queues/contract/names.ts'
import { startApi } from '../support/api.ts'
import type { Harness } from '../support/harness.ts'

let harness: Harness | undefined
let app: FastifyInstance | undefined
let browser: BrowserContext | undefined
let profileDir: string | undefined
afterEach(async () => {
  await browser?.close()
  if (profileDir) rmSync(profileDir, { recursive: true, force: true })
  await app?.close()
  await harness?.close()
})

/** Debian's chromium, headless, in a fresh profile, with nothing that reaches out of this machine. */
async function launchChromium(): Promise<BrowserContext> {
  profileDir = mkdtempSync(join(tmpdir(), 'cyborg-chromium-'))
  // Playwright passes the fresh profile as --user-data-dir itself.
  return chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

test("an operator logs into Bull Board in Chromium and sees the conductor's queues and a failed job's reason", async () => {
  const started = await startApi()
  ;({ harness, app } = started)
  const failed = await harness.writeQueue.add(WRITE_JOB, { entity: 'usage', key: harness.key('bad'), version: -1, value: {} })
  const reason = 'invalid write: version: must be a non-negative safe integer (0 to 2^53-1), got -1'
  expect(await harness.outcome(harness.writeQueue, failed.id!)).toEqual({ failedReason: reason })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  browser = await launchChromium()
  const page = await browser.newPage()
  await page.goto(`${base}/admin/queues`)
  expect(new URL(page.url()).pathname).toBe('/admin/login')

  await page.getByLabel('Token').fill(started.tokens.tokens.readerA.token)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not an admin or operator token/)

  await page.getByLabel('Token').fill(started.tokens.tokens.admin.token)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL(`${base}/admin/queues`)
  for (const queue of ['conductor-writes', 'conductor-reads', 'conductor-inventory', 'conductor-commands', 'conductor-flush']) {
    await page.getByText(queue, { exact: true }).first().waitFor()
  }

  await page.goto(`${base}/admin/queues/queue/conductor-writes?status=failed`)
  await page.getByText(reason).first().waitFor()
  expect(await page.content()).not.toContain(started.tokens.tokens.admin.token)
})
