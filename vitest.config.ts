import { defineConfig } from 'vitest/config';

// Tiers: unit (no privileges), integration (root: real kernel, real sshd), panel (Chromium), ui (code-server + Chromium).
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          poolOptions: { forks: { singleFork: true } },
        },
      },
      { test: { name: 'panel', include: ['test/panel/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, poolOptions: { forks: { singleFork: true } } } },
      { test: { name: 'ui', include: ['test/ui/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, poolOptions: { forks: { singleFork: true } } } },
    ],
  },
});
