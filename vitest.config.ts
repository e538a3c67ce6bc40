import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/python-oracle.ts', 'test/setup/tfjs-node.ts', 'test/setup/python-torch.ts', 'test/setup/ferretdb.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // The suite spawns worker threads and child processes; two forks keep a 2-core machine responsive.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
