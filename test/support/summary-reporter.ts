import type { Reporter, TestModule } from 'vitest/node'

/** Ends the run with the plain `N passed, N failed` line that CI reads, whatever the runner. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0
    let failed = 0
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed += 1
        else if (state === 'failed') failed += 1
      }
      if (module.state() === 'failed' && module.children.size === 0) failed += 1
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
  }
}
