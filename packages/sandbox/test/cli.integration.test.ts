import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEAD_PROXY, isLoopbackAddress } from '../src/banner.js';

// The CLI as a user meets it: the bin pnpm links, the banner they paste, Ctrl-C.
const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/rolegraph-sandbox.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const onCi = process.env.CI === 'true';
const AWS = '/usr/bin/aws';
const hasAws = (() => {
  try {
    execFileSync(AWS, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();
if (!onCi && !hasAws)
  console.warn('cli: skipping the banner test: /usr/bin/aws is missing (apt-get install awscli)');

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Starts a command that runs the sandbox and resolves with its banner once printed. */
function startCli(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; banner: Promise<string> } {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const banner = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops it.')) resolve(out);
    });
    child.once('exit', (code) =>
      reject(new Error(`exited with ${String(code)} before the banner:\n${out}${err}`)),
    );
  });
  return { child, banner };
}

/** The banner's shell lines: what a user pastes. */
function shellLines(banner: string): string[] {
  return banner
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(export|aws|eval|curl) /.test(line));
}

describe('the banner', () => {
  it.skipIf(!onCi && !hasAws)(
    "prints only commands that succeed with Debian's awscli under a dead proxy, and that never reach AWS",
    async () => {
      expect(hasAws, '/usr/bin/aws must be installed on CI').toBe(true);
      const { child, banner } = startCli(process.execPath, [BIN, '--port', '0']);
      const text = await banner;
      const endpoint = /listening on (http:\/\/\S+)/.exec(text)?.[1] ?? '';
      const lines = shellLines(text);
      const commands = lines.filter((l) => l.includes('aws '));
      expect(commands.length).toBeGreaterThanOrEqual(4);
      for (const command of commands) expect(command).toContain(`aws --endpoint-url ${endpoint} `);
      expect(text.match(/\baws /g)?.length).toBe(commands.length);

      // Pasted into a shell where anything but loopback goes to a dead proxy.
      const script = [
        'set -e',
        ...lines.map((l) =>
          l.replace(/\baws --endpoint-url/, `${AWS} --endpoint-url`).replace(/\s+# .*$/, ''),
        ),
      ].join('\n');
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: await mkdtemp(join(tmpdir(), 'rolegraph-banner-')),
        HTTPS_PROXY: DEAD_PROXY,
        NO_PROXY: '127.0.0.1',
        AWS_PAGER: '',
      };
      dirs.push(env.HOME);
      const pasted = await run('bash', ['-c', script], { env, timeout: 240_000 });
      expect(pasted.stdout).toContain('arn:aws:iam::000000000000:user/rolegraph-central');
      // Before the eval, as the management account's user: the demo organization.
      expect(pasted.stdout).toMatch(/^111111111111\s+prod\s+ACTIVE$/m);
      // After the eval: prod's reader sees prod's instances and buckets.
      expect(pasted.stdout).toMatch(/^i-[0-9a-f]{17}\s+\S+\s+(running|stopped)/m);
      expect(pasted.stdout).toContain('prod-');
      expect(pasted.stdout).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+-/); // s3 ls: date, time, bucket

      // A command that forgets the endpoint, after only the banner's exports (no proxy of the
      // test's own): it fails at the banner's dead proxy, it is never sent towards AWS.
      const exports = lines.filter((l) => l.startsWith('export ')).join('\n');
      const forgot = await run('bash', ['-c', `${exports}\n${AWS} sts get-caller-identity 2>&1 || true`], {
        env: { PATH: env.PATH, HOME: env.HOME, AWS_PAGER: '' },
        timeout: 120_000,
      });
      expect(forgot.stdout).toContain(`Failed to connect to proxy URL: "${DEAD_PROXY}"`);

      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    },
    300_000,
  );
});

describe('--host', () => {
  it('only loopback bind addresses count as loopback (a name starting 127. does not)', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(isLoopbackAddress(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.0.2.1', '127.attacker.example', '127.0.0.1.nip.io', '10.0.0.1'])
      expect(isLoopbackAddress(host), host).toBe(false);
  });

  it('a non-loopback --host is warned about on stderr before the sandbox binds it', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here, so the bind fails after the warning and
    // nothing ever listens beyond loopback.
    const failed = await run(process.execPath, [BIN, '--host', '192.0.2.1', '--port', '0'], {
      timeout: 60_000,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    const lines = failed?.stderr.trim().split('\n') ?? [];
    expect(lines[0]).toBe(
      'rolegraph-sandbox: warning: --host 192.0.2.1 is not loopback; anyone who can reach it gets its credentials, and the admin API answers loopback Hosts only (set --admin-token)',
    );
    expect(lines[1]).toBe('rolegraph-sandbox: cannot listen on 192.0.2.1:0');
  }, 60_000);

  it('a loopback --host starts with nothing on stderr', async () => {
    const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ctrl-C stops it.')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited with ${String(code)}: ${err}`)));
    });
    expect(err).toBe('');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);
});

describe('a fresh clone', () => {
  it('links the bin at install time and `pnpm sandbox` / `pnpm exec rolegraph-sandbox` start it before any build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rolegraph-clone-'));
    dirs.push(dir);
    // HEAD as committed: what a user clones.
    await run('git', ['clone', '-q', REPO, dir], { timeout: 120_000 });
    const install = await run('pnpm', ['install', '--frozen-lockfile', '--offline'], {
      cwd: dir,
      timeout: 300_000,
      env: { ...process.env, CI: 'true' },
    });
    expect(`${install.stdout}${install.stderr}`).not.toContain('Failed to create bin');

    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
    const viaExec = startCli('pnpm', ['exec', 'rolegraph-sandbox', '--port', '0'], { cwd: dir, env });
    expect(await viaExec.banner).toMatch(/^rolegraph-sandbox listening on http:\/\/127\.0\.0\.1:\d+$/m);
    viaExec.child.kill('SIGINT');
    await once(viaExec.child, 'exit');

    const viaScript = startCli('pnpm', ['sandbox', '--port', '0'], { cwd: dir, env });
    expect(await viaScript.banner).toMatch(/^rolegraph-sandbox listening on http:\/\/127\.0\.0\.1:\d+$/m);
    viaScript.child.kill('SIGINT');
    const [code] = (await once(viaScript.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 600_000);
});
