import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// 16 concurrent request loops on loopback for 60 s (LOAD_SECONDS shortens it locally; CI runs
// the full 60) against five mixed queries, in a child process started with --expose-gc so heap
// is measured after real collections, not vitest's worker garbage.
const SCRIPT = fileURLToPath(new URL('./scripts/load.ts', import.meta.url));
const SECONDS = process.env.CI ? 60 : Number(process.env.LOAD_SECONDS ?? 60);
/** Heap after GC at the end may exceed heap after GC at the start by at most this much. */
const HEAP_BOUND_MIB = 50;

interface Report {
  seconds: number;
  sent: number;
  answered: number;
  statuses: Record<string, number>;
  graphqlErrors: Record<string, number>;
  failures: number;
  maxLatencyMs: number;
  requestsPerSecond: number;
  outcomes: Record<string, number>;
  heapStartMiB: number;
  heapEndMiB: number;
  heapDeltaMiB: number;
}

describe(`load: 16 connections for ${SECONDS} s`, () => {
  it(
    `zero 5xx, zero lost responses, heap after GC within +${HEAP_BOUND_MIB} MiB`,
    async () => {
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT], {
          env: { ...process.env, LOAD_SECONDS: String(SECONDS) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          err += chunk.toString();
        });
        const kill = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 60) * 1000);
        child.on('error', reject);
        child.on('exit', (exitCode) => {
          clearTimeout(kill);
          resolve({ code: exitCode, stdout: out, stderr: err });
        });
      });
      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Report;
      console.info(JSON.stringify(report));
      expect(report.seconds).toBe(SECONDS);
      expect(report.sent).toBeGreaterThan(SECONDS * 5);
      // Every request answered, every answer a 200 with no GraphQL error at all.
      expect(report.failures).toBe(0);
      expect(report.answered).toBe(report.sent);
      expect(report.statuses).toEqual({ 200: report.sent });
      expect(report.graphqlErrors).toEqual({});
      expect(Object.keys(report.outcomes)).toEqual(['ok']);
      expect(report.heapDeltaMiB).toBeLessThan(HEAP_BOUND_MIB);
    },
    (SECONDS + 90) * 1000,
  );
});
