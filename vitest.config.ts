import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/faults/ is its own suite (`npm run test:faults`, vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    // Builds dist/ first: worker threads and the CLI run compiled JavaScript.
    globalSetup: ['test/sdk-build.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
