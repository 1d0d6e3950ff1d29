// Prisma Migrate offline: Prisma 6.19's WebAssembly schema engine, driven through @prisma/adapter-pg,
// so no native engine is ever downloaded. Two upstream adapter bugs are worked around here.
import { defineConfig } from 'prisma/config'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { parse } from 'pg-connection-string'

// prisma/orm#27403: the engine cannot decode the catalog's `char` (18) and `name` (19) columns.
const CATALOG_OIDS = new Set([18, 19])
const TEXT_OID = 25
// biome-ignore lint/suspicious/noExplicitAny: pg's query results, of every overload
const asText = (result: any) => {
  for (const field of result?.fields ?? []) if (CATALOG_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID
  return result
}

class CatalogTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query has a dozen overloads to pass through
  override query(...args: any[]): any {
    const last = args.length - 1
    if (typeof args[last] === 'function') {
      const callback = args[last]
      args[last] = (err: unknown, result: unknown) => callback(err, asText(result))
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const result = (super.query as any)(...args)
    return typeof result?.then === 'function' ? result.then(asText) : result
  }
}

// `migrate dev` drops its shadow database while the adapter's pool is still connected to it:
// close that pool first.
class MigrateAdapter extends PrismaPg {
  override async connectToShadowDb() {
    const shadow = await super.connectToShadowDb()
    const pool = shadow.underlyingDriver() as pg.Pool
    const dispose = shadow.dispose.bind(shadow)
    shadow.dispose = async () => {
      await pool.end()
      pool.end = async () => {}
      await dispose()
    }
    return shadow
  }
}

/**
 * src/config.ts's default DATABASE_URL (a unit test keeps the two equal). This file reads the variable
 * itself rather than through the conductor's configuration module: `npm ci` runs `prisma generate`,
 * which loads this file, and an image must install its dependencies without src/ (Dockerfile).
 */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/cyborg'

// Migrations go where the conductor reads and writes.
const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL
// The schema's `url = env("DATABASE_URL")` must resolve, or `prisma generate` falls back to downloading
// a native engine: give it the conductor's default when the environment has none.
process.env.DATABASE_URL = databaseUrl

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // A parsed config, not a connection string: the shadow database is chosen by overriding `database`.
  adapter: async () => new MigrateAdapter({ ...(parse(databaseUrl) as pg.PoolConfig), Client: CatalogTextClient }),
})
