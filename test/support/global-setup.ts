import { execFileSync } from 'node:child_process'
import { ensureDatabase } from '../../src/services.ts'
import { TEST_DATABASE_URL } from './services.ts'

/** Brings the test database to the committed migrations, once per run. */
export default async function setup(): Promise<void> {
  await ensureDatabase(TEST_DATABASE_URL)
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}
