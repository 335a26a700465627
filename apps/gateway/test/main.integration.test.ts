import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built entry point as an operator runs it: demo mode, SIGTERM, a bad config file.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Started {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  listening: Promise<string>;
}

function start(args: string[] = [], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      ROLEGRAPH_LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'listening') resolve(String(entry.url));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before listening`)));
  });
  return { child, lines, listening };
}

async function lineWith(
  lines: Array<Record<string, unknown>>,
  msg: RegExp,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = lines.find((l) => msg.test(String(l.msg)));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line matching ${String(msg)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('main (the gateway process)', () => {
  it('logs the source identity at start (demo mode: the sandbox central user)', async () => {
    const { child, lines, listening } = start();
    try {
      const url = await listening;
      const source = await lineWith(lines, /^source identity$/);
      expect(source).toMatchObject({ arn: 'arn:aws:iam::000000000000:user/rolegraph-central' });
      expect((await fetch(url.replace('/graphql', '/ready'))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('with no source credentials anywhere: starts, warns clearly, and /ready says not ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rolegraph-main-'));
    const file = join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [
          { alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/Reader', regions: ['us-east-1'] },
        ],
        // Nothing may leave this machine, whatever happens.
        aws: { endpoint: 'http://127.0.0.1:9' },
      }),
    );
    const { child, lines, listening } = start(['--config', file], {
      HOME: dir,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    });
    try {
      const url = await listening;
      const warning = await lineWith(lines, /^no source credentials found/);
      expect(warning).toMatchObject({ level: 'warn', code: 'SOURCE_CREDENTIALS_UNAVAILABLE' });
      const ready = await fetch(url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'no-source-identity' });
      expect((await fetch(url.replace('/graphql', '/health'))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('starts in demo mode on loopback, answers, and on SIGTERM drains and exits 0', async () => {
    const { child, lines, listening } = start();
    const url = await listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ accounts { alias } }' }),
    });
    expect(await r.json()).toEqual({
      data: { accounts: [{ alias: 'prod' }, { alias: 'staging' }, { alias: 'audit' }] },
      // The answer cache is on by default; this query needed no AWS answer.
      extensions: {
        cache: { hits: 0, shared: 0, misses: 0, oldestAgeSeconds: null, fetchedAt: null, accounts: {} },
      },
    });
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    expect(lines.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
  });

  it('demo mode places the demo accounts in the sandbox organization: OU path and state, nothing else discovered', async () => {
    const { child, lines, listening } = start();
    try {
      const url = await listening;
      const deadline = Date.now() + 20_000;
      while (!lines.some((l) => l.msg === 'organization discovered')) {
        if (Date.now() > deadline) throw new Error('no organization discovered log within 20 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ accounts { alias name state organizationalUnit { path } } }' }),
      });
      const body = (await r.json()) as { data: unknown };
      expect(body.data).toEqual({
        accounts: [
          {
            alias: 'prod',
            name: 'prod',
            state: 'ACTIVE',
            organizationalUnit: { path: ['Workloads', 'Prod'] },
          },
          {
            alias: 'staging',
            name: 'staging',
            state: 'ACTIVE',
            organizationalUnit: { path: ['Workloads', 'Staging'] },
          },
          { alias: 'audit', name: 'audit', state: 'ACTIVE', organizationalUnit: { path: [] } },
        ],
      });
      expect(lines.find((l) => l.msg === 'organization discovered')).toMatchObject({
        accounts: 3,
        discovered: 0,
      });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('refuses a missing config file at start with one log line naming it, and a non-zero exit', async () => {
    const { code, stdout, stderr } = await runToExit(['--config', '/nonexistent/rolegraph.yaml']);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'error',
      msg: 'invalid configuration: /nonexistent/rolegraph.yaml: cannot be read (ENOENT)',
      file: '/nonexistent/rolegraph.yaml',
    });
  });

  it('resolves a relative config path against the directory pnpm was run in (INIT_CWD), and names the resolved path', async () => {
    const dir = join(RESULTS, `init-cwd-${process.pid}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'gw.yaml'), ACCOUNTS_YAML);
    // As `pnpm start` runs it: in apps/gateway, with the user's directory in INIT_CWD.
    const asScript = { INIT_CWD: dir, npm_lifecycle_event: 'start' };
    const { child, lines, listening } = start(['--config', 'gw.yaml'], asScript);
    await listening;
    expect(lines.find((l) => l.msg === 'listening')?.accounts).toBe(1);
    child.kill('SIGTERM');
    const [exitCode, exitSignal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ exitCode, exitSignal }).toEqual({ exitCode: 0, exitSignal: null });

    const missing = await runToExit([], { ...asScript, ROLEGRAPH_CONFIG: 'missing.yaml' });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`${join(dir, 'missing.yaml')}: cannot be read (ENOENT)`);
  });

  it('the real `pnpm start` from another directory reads the config file there', async () => {
    const dir = join(RESULTS, `pnpm-start-${process.pid}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'gw.yaml'), ACCOUNTS_YAML);
    const child = spawn('pnpm', ['start'], {
      cwd: dir,
      env: { ...process.env, PORT: '0', ROLEGRAPH_CONFIG: 'gw.yaml', ROLEGRAPH_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'listening') resolve(entry);
        if (entry.level === 'error') reject(new Error(line));
      });
      child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before listening`)));
    });
    expect(listening.accounts).toBe(1);
    child.kill('SIGTERM');
    await once(child, 'exit');
  }, 120_000);

  it('Ctrl-C through pnpm (SIGINT, then the SIGINT pnpm forwards) drains and exits 0', async () => {
    const { child, lines, listening } = start();
    await listening;
    child.kill('SIGINT');
    child.kill('SIGINT');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });

  it('demo mode speaks to people: pino-pretty lines and one banner, no JSON', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Ctrl-C stops it.')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before the banner: ${stdout}${stderr}`)));
    });
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(stdout).not.toMatch(/^\{/m);
    expect(stdout).toMatch(/INFO.*listening/);
    expect(stdout.match(/GraphiQL {2}http:\/\/127\.0\.0\.1:\d+\/graphql/g)).toHaveLength(1);
    expect(stdout).toContain('rolegraph gateway on the sandbox (accounts prod, staging, audit)');
    // Nothing on stderr but, on Node < 22, the AWS SDK's own notice at the first AWS call (the
    // start-up source check); the README explains it.
    expect(stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?was created\)\n/, '')).toBe(
      '',
    );
  });
});

const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));

const ACCOUNTS_YAML = `accounts:
  - alias: prod
    roleArn: arn:aws:iam::111111111111:role/RolegraphReader
    regions: [us-east-1]
`;

async function runToExit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
