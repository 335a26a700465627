import type { ChildProcess } from 'node:child_process';

/**
 * Waits until a child process prints a line matching `pattern` on stdout and returns the
 * pattern's first group: how the bench's server children say they are ready. Rejects if the
 * child exits first or `timeoutMs` passes; the child is killed then.
 *
 * @example
 * const endpoint = await awaitLine(child, /^ENDPOINT (\S+)$/m, 'sandbox process');
 */
export function awaitLine(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<string> {
  const stdout = child.stdout;
  if (!stdout) return Promise.reject(new Error(`${what} has no stdout`));
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`${what} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => fail(new Error(`${what} exited with ${code}`)));
  });
}

/**
 * Asks a bench server child (started with an IPC channel) for its CPU time so far, in µs,
 * user + system: the child answers the message `cpu` with `process.cpuUsage()`.
 */
export function askCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => {
    child.once('message', (usage: NodeJS.CpuUsage) => resolve(usage.user + usage.system));
    child.send('cpu');
  });
}
