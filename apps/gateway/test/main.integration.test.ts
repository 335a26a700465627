import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', ...env },
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
    });
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    expect(lines.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
  });

  it('refuses a missing config file at start, naming it, with a non-zero exit', async () => {
    const child = spawn(process.execPath, [MAIN, '--config', '/nonexistent/rolegraph.yaml'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(stderr).toContain('/nonexistent/rolegraph.yaml');
  });
});
