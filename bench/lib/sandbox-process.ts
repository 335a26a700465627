/**
 * The sandbox in a child process, with a generated fixture, so its CPU (SigV4 checks, XML) is
 * not charged to the gateway being measured and its latency timers do not wait on the
 * gateway's event loop. Run as a script it is the child: it starts the sandbox and prints
 * `ENDPOINT <url>`. (`sandbox-child.ts` does the same for the demo fixture.)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type GenerateFixtureOptions,
  generateFixture,
  type LatencyOptions,
  type SandboxFixture,
  startSandbox,
  type ThrottlingOptions,
} from '@rolegraph/sandbox';

import { askCpuMicros, awaitLine } from './child.js';
import { isMain } from './gateway-harness.js';

export interface SandboxProcessOptions {
  /** Generated with these options (deterministic per seed). */
  fixture: GenerateFixtureOptions;
  latency?: LatencyOptions;
  /** The sandbox's AWS-like throttling from the start. @default off */
  throttling?: ThrottlingOptions;
  /**
   * Rebuild the fixture in this process too (`SandboxProcess.fixture`). Off for org-scale
   * fixtures, whose hundreds of MiB would be charged to the process being measured.
   * @default true
   */
  buildFixture?: boolean;
}

export interface SandboxProcess {
  endpoint: string;
  /** The same fixture the child serves, rebuilt here from the same seed (empty with `buildFixture: false`). */
  fixture: SandboxFixture;
  credentials: { accessKeyId: string; secretAccessKey: string };
  calls(filter?: { service?: string; operation?: string; outcome?: 'throttled' }): Promise<number>;
  reset(): Promise<void>;
  setLatency(latency: LatencyOptions): Promise<void>;
  setThrottling(throttling: ThrottlingOptions): Promise<void>;
  /** User + system CPU time of the child so far, in microseconds. */
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

async function setKnobs(endpoint: string, knobs: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${endpoint}/_sandbox/knobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs),
  });
  if (!res.ok) throw new Error(`sandbox knobs: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

export async function startSandboxProcess(options: SandboxProcessOptions): Promise<SandboxProcess> {
  const child = spawn(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const endpoint = await awaitLine(child, /ENDPOINT (\S+)/, 'sandbox process', STARTUP_TIMEOUT_MS);
  const fixture =
    options.buildFixture === false
      ? generateFixture({
          accounts: 1,
          bucketsPerAccount: 0,
          instancesPerRegion: 0,
          seed: options.fixture.seed ?? 1,
        })
      : generateFixture(options.fixture);
  const central = fixture.accounts[0]?.users[0];
  if (!central) throw new Error('generated fixture has no central principal');
  return {
    endpoint,
    fixture,
    credentials: { accessKeyId: central.accessKeyId, secretAccessKey: central.secretAccessKey },
    async calls(filter = {}) {
      const query = new URLSearchParams(filter as Record<string, string>);
      const res = await fetch(`${endpoint}/_sandbox/calls?${query}`);
      return ((await res.json()) as { count: number }).count;
    },
    async reset() {
      await (await fetch(`${endpoint}/_sandbox/reset`, { method: 'POST' })).arrayBuffer();
    },
    setLatency: (latency) => setKnobs(endpoint, { latency }),
    setThrottling: (throttling) => setKnobs(endpoint, { throttling }),
    cpuMicros: () => askCpuMicros(child),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (isMain(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as SandboxProcessOptions;
  const sb = await startSandbox({
    fixture: generateFixture(options.fixture),
    port: 0,
    host: '127.0.0.1',
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.throttling !== undefined ? { throttling: options.throttling } : {}),
  });
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.(process.cpuUsage());
  });
  const stop = () => {
    void sb.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // The parent going away (even a crashed bench) must not leave a sandbox behind.
  process.once('disconnect', stop);
  process.stdout.write(`ENDPOINT ${sb.endpoint}\n`);
}
