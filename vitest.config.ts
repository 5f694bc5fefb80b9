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
    // Test files share a worker's module graph instead of importing everything afresh for each
    // file: measured on the 2-core machine, the whole suite 925 → 677 s (vitest JSON reporter, same
    // machine, back to back); 61 → 13 s of summed import time for test/kernel, traceability and
    // engine. What that asks of a test file: no module-level state that another file could meet,
    // environment variables set to the same values or restored, hooks registered inside the file
    // (none at a helper module's top level). One library breaks the environment for later files:
    // node-opcua-crypto leaves OPENSSL_CONF="undefined" (test/security/openssl.ts).
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
    passWithNoTests: false,
  },
})
