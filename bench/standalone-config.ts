import { loadConfig, type Config } from '../src/config.ts'

/**
 * The configuration of a stand-alone bench script (drain-cpu, read-latency, http-reads): the environment,
 * the bench's database unless DATABASE_URL names one, a prefix of its own, warnings only.
 */
export function standaloneConfig(prefix: string): Config {
  return loadConfig({
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/cyborg_bench',
    CONDUCTOR_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  } as Record<string, string>)
}
