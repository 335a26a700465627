import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
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

describe('main (the gateway process)', () => {
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
