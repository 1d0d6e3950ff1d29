import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite has its own configuration: `npm run test:faults`.
    // test/fixtures holds sysfs trees whose links loop, as the kernel's do: never walked for tests.
    exclude: [...configDefaults.exclude, 'test/faults/**', 'test/fixtures/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Three files at once: they wait on servers (Keystone, Placement, PostgreSQL, child processes) far more than they
    // compute, and one at a time (vitest's default on 2 cores) the suite took 6.5–9 minutes of CI.
    maxWorkers: 3,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
