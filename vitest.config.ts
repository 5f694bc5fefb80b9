import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'simulators/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Suites share the local services; files run in parallel in forks, each with unique names.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    passWithNoTests: false,
  },
})
