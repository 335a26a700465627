import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's redis-server: the only Redis these tests run (never a mock, never a download). */
export const REDIS_SERVER = '/usr/bin/redis-server';
/** openssl makes the throwaway CA and server certificate of the TLS tests (Node cannot sign X.509). */
export const OPENSSL = '/usr/bin/openssl';
const onCi = process.env.CI === 'true';
/** Outside CI a machine without redis-server skips the Redis tests (with a message); under CI=true they fail. */
export const redisTestsSkipped = !existsSync(REDIS_SERVER) && !onCi;
export const tlsTestsSkipped = redisTestsSkipped || (!existsSync(OPENSSL) && !onCi);

if (redisTestsSkipped) {
  console.warn(
    `[redis tests] SKIPPED: ${REDIS_SERVER} not found (apt-get install redis-server to run them; CI=true fails instead)`,
  );
}

/** A throwaway CA and a server certificate for 127.0.0.1, as PEM files in `dir`. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
}

/** Makes a CA and a certificate for `127.0.0.1`/`localhost` signed by it, with Debian's openssl. */
export function makeCertificates(): TestCertificates {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} is missing: the Redis TLS tests need it`);
  const dir = mkdtempSync(join(tmpdir(), 'rolegraph-redis-tls-'));
  const at = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: 'pipe' });
  // A subject on the command line: openssl would prompt for one otherwise.
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=rolegraph-test-ca',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    dir,
    caFile: at('ca.crt'),
    certFile: at('server.crt'),
    keyFile: at('server.key'),
    ca: readFileSync(at('ca.crt'), 'utf8'),
  };
}

export interface RedisServerOptions {
  /** `--requirepass`: clients must AUTH. */
  password?: string;
  /** Serve TLS only (`--port 0 --tls-port N`), with this certificate. */
  tls?: TestCertificates;
}

/** One redis-server child on 127.0.0.1. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (or `rediss://`), without the password. */
  readonly url: string;
  readonly pid: number | undefined;
  /** Kill -9: Redis is gone, its data with it (nothing is saved). */
  kill(): Promise<void>;
  /** Start again on the same port (after `kill`), empty. */
  restart(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers (Redis "slow"). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Runs redis-cli against it, e.g. `cli('DBSIZE')`. */
  cli(...args: string[]): string;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago: bind an ephemeral port, release it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const live = new Set<ChildProcess>();
// A test run that dies never leaves a redis-server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns redis-server on `port`; resolves when it accepts connections, rejects if it exits first. */
async function spawnOn(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = [
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    ...(options.password ? ['--requirepass', options.password] : []),
    ...(options.tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          options.tls.certFile,
          '--tls-key-file',
          options.tls.keyFile,
          '--tls-ca-cert-file',
          options.tls.caFile,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)]),
  ];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 20 s: ${output.slice(-500)}`));
    }, 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${String(code)}) before it was ready: ${output.slice(-500)}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/**
 * Starts Debian's redis-server on a free loopback port with nothing persisted (`--save ''
 * --appendonly no`, a temp dir). `--port 0` would disable TCP rather than pick a port, so a port
 * is found by binding an ephemeral one and releasing it; a collision is retried.
 *
 * @example
 * const redis = await startRedisServer({ password: 's3cret' });
 * // ... redis://127.0.0.1:${redis.port}
 * await redis.stop();
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'rolegraph-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnOn(port, dir, options);
      break;
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('in use')) throw error;
    }
  }
  const scheme = options.tls ? 'rediss' : 'redis';
  const kill = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill('SIGCONT');
    current.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    kill,
    async restart() {
      await kill();
      // The port was ours a moment ago; the kernel may take a moment to release it.
      for (let attempt = 1; ; attempt++) {
        try {
          child = await spawnOn(port, dir, options);
          return;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    cli(...args: string[]) {
      const tls = options.tls ? ['--tls', '--cacert', options.tls.caFile] : [];
      return execFileSync(
        '/usr/bin/redis-cli',
        ['-h', '127.0.0.1', '-p', String(port), ...tls, '--no-auth-warning', ...args],
        {
          env: { ...process.env, ...(options.password ? { REDISCLI_AUTH: options.password } : {}) },
        },
      )
        .toString()
        .trim();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      if (options.tls) rmSync(options.tls.dir, { recursive: true, force: true });
    },
  };
}
