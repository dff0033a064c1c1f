import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects so that unit tests never pay for engines:
 *  - unit:        test/unit/**, no globalSetup;
 *  - integration: every other test/**\/*.test.ts, with the three seeded
 *                 private engines of test/helpers/global-setup.ts;
 *  - e2e:         test/e2e/**, the same engines, run after the others.
 * A project's globalSetup only runs when that project has files in the run,
 * so `vitest run test/unit` or `--project unit` starts no dockerd.
 */
export default defineConfig({
  // graphql 16 ships CJS (main) and ESM (module) builds; Node loads the CJS one for our dependencies
  // (Pothos, yoga), so Vite must not hand our sources the other copy ("another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**', 'test/e2e/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        // The product as users start it (npm start rebuilds dist/), after every other file has run,
        // so no other test is reading dist/ while it is rewritten.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
