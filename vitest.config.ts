import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'simulators/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Suites share the local services; files run in parallel in forks, each with unique names.
    pool: 'forks',
    // Vitest's default is one fork less than the cores: on the 2-core machines this project runs on
    // that is one file at a time, while most files spend their time waiting on services, child
    // processes and timers, so two at once nearly halve the suite's wall time.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    passWithNoTests: false,
  },
})
