import { redact } from '../errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log line. `msg` says what happened; the rest are fields. */
export interface LogEntry {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

/** Where log lines go; inject one to capture logs in tests. */
export type LogFn = (entry: LogEntry) => void;

/**
 * Writes one JSON object per line to stdout, with a timestamp, after redacting anything
 * shaped like an access key id.
 *
 * @example
 * const log = createJsonLog({ now: Date.now });
 * log({ level: 'info', msg: 'listening', url });
 */
export function createJsonLog(
  options: { now?: () => number; write?: (line: string) => void; minLevel?: LogLevel } = {},
): LogFn {
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const min = order[options.minLevel ?? 'info'];
  return (entry) => {
    if (order[entry.level] < min) return;
    const line = JSON.stringify({ time: new Date(now()).toISOString(), ...entry }, (_key, value: unknown) =>
      typeof value === 'string' ? redact(value) : value,
    );
    write(`${line}\n`);
  };
}

/** Drops every entry. */
export const silentLog: LogFn = () => {};
