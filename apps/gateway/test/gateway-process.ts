import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built entry point, as an operator runs it. */
export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** One `node dist/main.js --config FILE` child, its JSON log lines and its URL. */
export interface GatewayProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** `http://127.0.0.1:PORT/graphql` */
  readonly url: string;
  /** `GET /metrics` as text. */
  metrics(): Promise<string>;
  /** Resolves with the first log line whose `msg` matches (waits up to `timeoutMs`). */
  lineWith(msg: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL: the replica is gone at once, as a crashed container. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Writes `config` as JSON to a fresh temp file and returns its path. */
export function writeConfigFile(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rolegraph-replica-')), 'gateway.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * Spawns a gateway process on a free port with `configFile`; the source credentials are the
 * given keys (the SDK's default chain reads them from the environment, as in production).
 *
 * @example
 * const gw = await startGatewayProcess({ name: 'a', configFile, credentials: sandbox.credentials });
 */
export async function startGatewayProcess(options: {
  name: string;
  configFile: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<GatewayProcess> {
  const home = mkdtempSync(join(tmpdir(), 'rolegraph-replica-home-'));
  const child = spawn(process.execPath, [MAIN, '--config', options.configFile], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      PORT: '0',
      ROLEGRAPH_LOG_FORMAT: 'json',
      AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name}: not listening after 60 s`)), 60_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      lines.push(entry);
      if (entry.msg === 'listening') {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${String(code)}) before listening: ${stderr.slice(-500)}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    name: options.name,
    child,
    lines,
    url,
    async metrics() {
      return (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
    },
    async lineWith(msg, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => msg.test(String(l.msg)));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`${options.name}: no log line matching ${String(msg)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One metric's value from a Prometheus text page (the sum over matching label sets). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}
