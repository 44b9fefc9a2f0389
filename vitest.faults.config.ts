import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`, docs/robustness.md): signals, aborts, dying peers,
 * corrupt bundles and bad input against the real CLI and SDK. Its files run one at a time:
 * each starts model-loading processes, and two at once on a busy machine only make both slower.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/sdk-build.setup.ts', 'test/faults/seed.setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
