#!/usr/bin/env node
// The bin is a source file, not dist/cli.js, so pnpm links it at install time, before anything is
// built. In a fresh clone it builds the sandbox once (a second or two of tsc), then runs the CLI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function fail(message) {
  process.stderr.write(`rolegraph-sandbox: ${message}\n`);
  process.exit(1);
}

if (!existsSync(cli)) {
  // Only a source checkout has tsconfig.build.json; an installed tarball always ships dist/.
  if (!existsSync(new URL('../tsconfig.build.json', import.meta.url))) {
    fail('dist/cli.js is missing from this installation; reinstall @rolegraph/sandbox');
  }
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    fail('not built yet and TypeScript is not installed: run `pnpm install && pnpm build` first');
  }
  process.stderr.write('rolegraph-sandbox: first run in this checkout, building it (tsc)...\n');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: packageDir,
    stdio: 'inherit',
  });
  if (built.status !== 0) fail('the build failed (see above); `pnpm build` shows the same errors');
}
await import(cli.href);
