import { execFileSync } from 'node:child_process'
import { pendingMigrations } from '../../src/db/pending-migrations.ts'
import { ensureDatabase } from '../../src/services.ts'
import { buildDist } from './build.ts'
import { TEST_DATABASE_URL } from './services.ts'

/** Once per run: builds dist/ and brings the test database to the committed migrations. */
export default async function setup(): Promise<void> {
  buildDist()
  await ensureDatabase(TEST_DATABASE_URL)
  if ((await pendingMigrations(TEST_DATABASE_URL)).length === 0) return
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}
