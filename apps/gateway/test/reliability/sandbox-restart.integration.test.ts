import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The sandbox is killed mid-query and restarted on the same port with the same fixture, in a
// child process that must then exit on its own: no ref'd timer or socket may be left behind.
const SCRIPT = fileURLToPath(new URL('./scripts/restart-sandbox.ts', import.meta.url));

interface Outcome {
  status: number;
  complete: boolean;
  ms: number;
  codes: Array<{ code: unknown; retryable: unknown }>;
}
interface Report {
  samePort: boolean;
  before: Outcome;
  killedMidQuery: Outcome;
  whileDown: Outcome;
  afterRestart: Outcome;
  attempts: number;
  recoveredInMs: number;
  health: number;
  closedAt: number;
}

function run(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  exitedAt: number;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A process that does not exit by itself is the failure this test looks for.
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, exitedAt: Date.now() });
    });
  });
}

describe('the sandbox killed mid-query and restarted', () => {
  it('typed retryable errors while down, recovery after, no crash, and a clean exit', async () => {
    const result = await run();
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Report;
    console.info(JSON.stringify(report));
    expect(report.samePort).toBe(true);
    expect(report.before.complete).toBe(true);

    // While it is down: HTTP 200 with every failed field typed and retryable, never a 5xx or a
    // masked INTERNAL_SERVER_ERROR; bounded by the retry policy (8 tries, waits <= 2 s).
    for (const outcome of [report.killedMidQuery, report.whileDown]) {
      expect(outcome.status).toBe(200);
      expect(outcome.complete).toBe(false);
      expect(outcome.codes.length).toBeGreaterThan(0);
      for (const c of outcome.codes) expect(c).toEqual({ code: 'AWS_UNAVAILABLE', retryable: true });
      expect(outcome.ms).toBeLessThan(15_000);
    }
    // Back: the same gateway answers in full, without a restart.
    expect(report.afterRestart.complete).toBe(true);
    expect(report.recoveredInMs).toBeLessThan(15_000);
    expect(report.health).toBe(200);
    // Everything closed: the process exits on its own, promptly.
    expect(result.exitedAt - report.closedAt).toBeLessThan(3_000);
  }, 90_000);
});
