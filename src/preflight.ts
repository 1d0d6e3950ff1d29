// `npm start` runs this first: configuration, Redis and PostgreSQL, the database, then the migrations
// still pending, if any.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { loadConfig } from './config.ts'
import { pendingMigrations } from './db/pending-migrations.ts'
import { checkPostgres, checkRedis, ensureDatabase, redact } from './services.ts'

try {
  const config = loadConfig()
  await checkRedis(config)
  await checkPostgres(config.DATABASE_URL)
  if (await ensureDatabase(config.DATABASE_URL)) console.log(`created database ${redact(config.DATABASE_URL)}`)
  const pending = await pendingMigrations(config.DATABASE_URL)
  if (pending.length > 0) {
    console.log(`applying migrations: ${pending.join(', ')}`)
    // Prisma's CLI from this package's dependencies, whatever PATH says.
    const prisma = createRequire(import.meta.url).resolve('prisma/build/index.js')
    execFileSync(process.execPath, [prisma, 'migrate', 'deploy'], { stdio: 'inherit' })
  }
} catch (error) {
  console.error(`cannot start the conductor: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
