import { defineConfig } from 'vitest/config'

// `npm run test:faults`: conductors in child processes against private Redis and PostgreSQL servers
// that the tests kill, stop and restart. One file at a time: each loads the machine on its own.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/support/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
})
