#!/usr/bin/env node
// The bin is a source file, not dist/main.js, so pnpm links it at install time, before anything
// is built. In a fresh clone it builds the gateway and the packages it uses once (turbo), then runs it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);

function fail(message) {
  process.stderr.write(`rolegraph-gateway: ${message}\n`);
  process.exit(1);
}

if (!existsSync(main)) {
  let turbo;
  try {
    turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
  } catch {
    fail('not built yet and turbo is not installed: run `pnpm install && pnpm build` first');
  }
  process.stderr.write('rolegraph-gateway: first run in this checkout, building it...\n');
  const built = spawnSync(
    process.execPath,
    [turbo, 'run', 'build', '--filter=@rolegraph/gateway', '--output-logs=errors-only'],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (built.status !== 0) fail('the build failed; `pnpm build` shows why');
}
await import(main.href);
