/**
 * Two projects. `unit`: in-process tests, no external tool, no dist/ (under
 * 20 s; `npx vitest run --project unit`). `e2e`: everything else — the real
 * CLI from dist/ (compiled first by the global setup when stale) and the
 * Debian tools. `npm test` runs both.
 */
import { defineConfig } from 'vitest/config';

export const UNIT = [
  'test/unit/**/*.test.ts',
  'test/builder/units.test.ts',
  'test/codec/{gzip-selftest,gzip,platform,tar-decode,tar-encode,tar-header-into}.test.ts',
  'test/registry/{challenge,credentials,creds-flag,reference}.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/harness/build-dist.ts'] } },
    ],
  },
});
