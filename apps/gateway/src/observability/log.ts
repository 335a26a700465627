import { Writable } from 'node:stream';
import { pino } from 'pino';
import pinoPretty from 'pino-pretty';
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

export interface LogOptions {
  /** `json`: one object per line (for collectors); `pretty`: coloured, human lines (demo mode). @default 'json' */
  format?: 'json' | 'pretty';
  /** @default 'info' */
  minLevel?: LogLevel;
  /** @default Date.now */
  now?: () => number;
  /** Receives each finished line (newline included). @default stdout */
  write?: (line: string) => void;
  /** Colours in `pretty` format. @default whether stdout is a terminal */
  colorize?: boolean;
}

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);
// Field names whose values are secrets whatever they look like; their values never reach a line.
const SECRET_KEYS = /^(secretAccessKey|sessionToken|authorization|x-api-key|apiKey|password|secret|token)$/i;

/** Field values as logged: strings redacted, secret-named fields censored, errors as their message. */
function clean(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  if (value instanceof Set) return [...value].map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = SECRET_KEYS.test(key) ? '[redacted]' : clean(v, depth + 1);
  return out;
}

/**
 * A logger on pino: JSON lines by default, pino-pretty's human lines in `pretty` format. Every
 * string is redacted (anything shaped like an access key id) and fields named like secrets are
 * censored before pino sees them, so no call site can leak key material.
 *
 * @example
 * const log = createLog({ format: 'pretty' });
 * log({ level: 'info', msg: 'listening', url });
 */
export function createLog(options: LogOptions = {}): LogFn {
  const now = options.now ?? Date.now;
  const write = options.write;
  const format = options.format ?? 'json';
  const destination =
    format === 'pretty'
      ? pinoPretty({
          sync: true,
          colorize: options.colorize ?? Boolean(process.stdout.isTTY),
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          singleLine: true,
          ...(write
            ? {
                destination: new Writable({
                  write(chunk: Buffer, _encoding, done) {
                    write(chunk.toString());
                    done();
                  },
                }),
              }
            : {}),
        })
      : write
        ? { write: (line: string) => write(line) }
        : pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level: options.minLevel ?? 'info',
      base: undefined,
      // The level as a word, not pino's number: the log schema the gateway has always written.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
    },
    destination,
  );
  return ({ level, msg, ...fields }) => {
    const method = LEVELS.has(level) ? level : 'info';
    logger[method](clean(fields) as object, redact(String(msg)));
  };
}

/**
 * JSON lines on stdout: `createLog({ ...options, format: 'json' })`.
 *
 * @example
 * const log = createJsonLog({ now: Date.now });
 * log({ level: 'info', msg: 'listening', url });
 */
export function createJsonLog(options: Omit<LogOptions, 'format' | 'colorize'> = {}): LogFn {
  return createLog({ ...options, format: 'json' });
}

/** Drops every entry. */
export const silentLog: LogFn = () => {};
