// `npm start` runs this first: configuration, Redis and PostgreSQL, the database, then migrations.
import { execFileSync } from 'node:child_process'
import { loadConfig } from './config.ts'
import { checkPostgres, checkRedis, ensureDatabase, redact } from './services.ts'

try {
  const config = loadConfig()
  await checkRedis(config)
  await checkPostgres(config.DATABASE_URL)
  if (await ensureDatabase(config.DATABASE_URL)) console.log(`created database ${redact(config.DATABASE_URL)}`)
  execFileSync('prisma', ['migrate', 'deploy'], { stdio: 'inherit' })
} catch (error) {
  console.error(`cannot start the conductor: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
