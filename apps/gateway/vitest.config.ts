import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql, as in production: vite would pick graphql's ESM build for src while yoga and
    // graphql-tools (loaded by Node) get the CJS one, and errors of the other copy fail
    // yoga's instanceof checks (a COST_LIMIT_EXCEEDED answered 500 under test, 200 in production).
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One file at a time: the 60 s load test saturates both cores, and files that assert
    // sub-second answers (attacks refused, query timeouts) must not race it.
    fileParallelism: false,
  },
});
