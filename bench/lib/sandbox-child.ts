/**
 * The sandbox in a child process, so that a benchmark's load generator and the server do not
 * share one event loop (and the JS peers get the same two cores as an out-of-process peer).
 * Counters and resets go through the admin HTTP endpoint.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type SandboxCredentials, type SandboxOptions, startSandbox } from '@rolegraph/sandbox';
import { awaitLine } from './child.js';

/** The JSON-serialisable subset of the sandbox's start options. */
export type SandboxChildOptions = Pick<
  SandboxOptions,
  'latency' | 'maxSessionSeconds' | 'allowShortSessions' | 'throttling' | 'faults'
> & { fixture?: 'demo' };

export interface SandboxChild {
  readonly endpoint: string;
  /** Keys of the fixture's central principal. */
  readonly credentials: SandboxCredentials;
  /** `GET /_sandbox/calls` with this filter. */
  calls(filter: { service?: string; operation?: string; account?: string }): Promise<number>;
  /** `POST /_sandbox/reset`: counters back to zero. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

interface Ready {
  endpoint: string;
  credentials: SandboxCredentials;
}

export async function startSandboxChild(options: SandboxChildOptions = {}): Promise<SandboxChild> {
  const child = spawn(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ready = JSON.parse(await awaitLine(child, /^READY (.+)$/m, 'sandbox process')) as Ready;
  const { endpoint } = ready;
  return {
    endpoint,
    credentials: ready.credentials,
    calls: async (filter) => {
      const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined));
      const res = await fetch(`${endpoint}/_sandbox/calls?${query.toString()}`);
      if (!res.ok) throw new Error(`sandbox calls: HTTP ${res.status}`);
      return ((await res.json()) as { count: number }).count;
    },
    reset: async () => {
      const res = await fetch(`${endpoint}/_sandbox/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`sandbox reset: HTTP ${res.status}`);
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--serve'
) {
  const options = JSON.parse(process.argv[3] ?? '{}') as SandboxChildOptions;
  const sb = await startSandbox(options);
  process.on('SIGTERM', () => {
    void sb.close().then(() => process.exit(0));
  });
  // stdin closes when the parent goes away (even a crashed bench): do not outlive it.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  console.log(`READY ${JSON.stringify({ endpoint: sb.endpoint, credentials: sb.credentials })}`);
}
