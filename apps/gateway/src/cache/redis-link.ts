import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { redact } from '../errors.js';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RedisConfig } from './redis-config.js';

/**
 * `connecting`: not answered yet (start); `up`: commands go to Redis; `down`: the replica uses
 * its own memory until Redis answers a probe again.
 */
export type RedisState = 'connecting' | 'up' | 'down';

/** One replica's connection to the shared Redis, and whether the stores may use it now. */
export interface RedisLink {
  readonly client: Redis;
  /** The URL without its password, for logs. */
  readonly where: string;
  state(): RedisState;
  /** Whether commands go to Redis now (the stores use their local fallback otherwise). */
  isUp(): boolean;
  /**
   * A command failed or timed out. A closed connection turns the link down at once; on an open
   * one, `failuresBeforeDown` failures in a row do (one slow answer, such as an event-loop stall
   * of this process, does not). Down: memory until a probe answers.
   */
  failed(error: unknown): void;
  /** A command answered: the failure count starts again. */
  succeeded(): void;
  /**
   * Resolves with the state once the link is `up` or `down` (a first connection that failed),
   * or after `timeoutMs` with the state it is in then.
   */
  whenUp(timeoutMs: number): Promise<RedisState>;
  /** Disconnects; no more log lines or state changes. */
  close(): Promise<void>;
}

export interface RedisLinkOptions {
  config: RedisConfig;
  log: LogFn;
  metrics?: Pick<GatewayMetrics, 'redisUp' | 'redisOutages'> | undefined;
  /** How often a `down` link asks Redis (PING) whether it answers again. @default 1000 */
  probeIntervalMs?: number | undefined;
  /** Failed commands in a row on an open connection that turn the link down. @default 3 */
  failuresBeforeDown?: number | undefined;
}

/** `redis://user:secret@host:6379/0` as `redis://user:***@host:6379/0`. */
export function redactRedisUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '[unparsable redis url]';
  }
}

/** A Redis error message as logged: no key material, never the password (Redis does not echo it). */
function reasonOf(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

/** A Redis command that did not answer within `cache.redis.commandTimeoutMs`. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
  readonly code = 'REDIS_TIMEOUT' as const;
}

/**
 * `promise`, or a `RedisTimeoutError` once `ms` have passed without an answer. The deadline is
 * checked one turn of the event loop after its timer, past the I/O phase: a reply that reached
 * the socket while this process was stalled (busy CPU, a long GC) is read first and counts as
 * on time. Only a Redis that really did not answer times out.
 *
 * @example
 * const value = await withDeadline(client.get('k'), 250);
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new RedisTimeoutError(`Redis did not answer within ${ms} ms`));
      });
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * ioredis options for `config`: host, port, db, credentials and TLS from the URL and the
 * section, and the settings a shared cache needs to fail fast: no offline queue (a command
 * while disconnected fails at once), no resending of unanswered commands after a reconnect,
 * a backstop `commandTimeout` (calls are timed by `withDeadline`), and reconnection in the
 * background with a backoff capped at 2 s.
 *
 * @example
 * const client = new Redis(redisClientOptions(config.cache.redis));
 */
export function redisClientOptions(config: RedisConfig): RedisOptions {
  const url = new URL(config.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const path = url.pathname.replace(/^\//, '');
  const tls = url.protocol === 'rediss:' || (config.tls !== undefined && config.tls !== false);
  const tlsOptions = typeof config.tls === 'object' ? config.tls : undefined;
  let ca: string | undefined;
  if (tlsOptions?.caFile) {
    try {
      ca = readFileSync(tlsOptions.caFile, 'utf8');
    } catch (error) {
      throw new TypeError(
        `cache.redis.tls.caFile: ${tlsOptions.caFile} cannot be read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const username = config.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  return {
    host,
    port: url.port ? Number(url.port) : 6379,
    db: path ? Number(path) : 0,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls
      ? {
          tls: {
            ...(ca ? { ca } : {}),
            ...(tlsOptions?.servername ? { servername: tlsOptions.servername } : {}),
            rejectUnauthorized: tlsOptions?.rejectUnauthorized ?? true,
          },
        }
      : {}),
    keyPrefix: config.keyPrefix,
    connectTimeout: config.connectTimeoutMs,
    // Calls are timed by withDeadline (which a stall of this process does not fool); ioredis's
    // own timeout only backs it up.
    commandTimeout: Math.max(10 * config.commandTimeoutMs, 5000),
    // A dead Redis must fail fast: the replica then answers from its own memory.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000),
    connectionName: 'rolegraph-gateway',
    lazyConnect: true,
  };
}

/**
 * Connects to the shared Redis and tracks whether it answers. Transitions, not calls, are
 * logged (one warning when the replica falls back to memory, one line when Redis is back) and
 * counted (`rolegraph_gateway_cache_redis_up`, `..._cache_redis_outages_total`). ioredis
 * reconnects in the background; a connection that stays open but stops answering (a slow or
 * paused Redis) is found by command timeouts and left by a PING every `probeIntervalMs`.
 *
 * @example
 * const link = createRedisLink({ config: config.cache.redis, log, metrics });
 * if (link.isUp()) await link.client.get('k');
 */
export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { config, log, metrics } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  const failuresBeforeDown = options.failuresBeforeDown ?? 3;
  if (!Number.isSafeInteger(failuresBeforeDown) || failuresBeforeDown < 1) {
    throw new TypeError(
      `createRedisLink: failuresBeforeDown must be an integer >= 1, got ${String(options.failuresBeforeDown)}`,
    );
  }
  let failuresInARow = 0;
  const where = redactRedisUrl(config.url);
  const client = new Redis(redisClientOptions(config));
  let state: RedisState = 'connecting';
  let everUp = false;
  let closed = false;
  let lastError: string | undefined;
  let probe: NodeJS.Timeout | undefined;
  let probing = false;
  const waiters = new Set<() => void>();
  metrics?.redisUp.set(0);

  const toUp = () => {
    if (closed || state === 'up') return;
    state = 'up';
    failuresInARow = 0;
    metrics?.redisUp.set(1);
    if (probe) clearInterval(probe);
    probe = undefined;
    log({
      level: 'info',
      msg: everUp
        ? 'redis is back: the shared answer cache and rate-limit buckets are in use again'
        : 'redis connected: answer cache and rate-limit buckets are shared',
      redis: where,
    });
    everUp = true;
    for (const wake of waiters) wake();
    waiters.clear();
  };
  const tick = () => {
    if (closed || probing || client.status !== 'ready') return;
    probing = true;
    withDeadline(client.ping(), config.commandTimeoutMs)
      .then(toUp, (error: unknown) => {
        lastError = reasonOf(error);
      })
      .finally(() => {
        probing = false;
      });
  };
  const toDown = (reason: string) => {
    if (closed || state === 'down') return;
    state = 'down';
    metrics?.redisUp.set(0);
    metrics?.redisOutages.inc();
    log({
      level: 'warn',
      msg: 'redis unavailable: this replica uses its own memory for the answer cache and rate-limit buckets until it answers again',
      redis: where,
      reason,
    });
    probe ??= setInterval(tick, probeIntervalMs);
    probe.unref();
    // Whoever waits for the first connection learns at once that it failed.
    for (const wake of waiters) wake();
    waiters.clear();
  };

  client.on('ready', () => {
    lastError = undefined;
    toUp();
  });
  // Without a listener an 'error' event would end the process; the transition says enough.
  client.on('error', (error: unknown) => {
    lastError = reasonOf(error);
  });
  client.on('close', () => toDown(lastError ?? 'connection closed'));
  client.connect().catch((error: unknown) => {
    lastError = reasonOf(error);
    toDown(lastError);
  });

  return {
    client,
    where,
    state: () => state,
    isUp: () => state === 'up',
    failed(error) {
      failuresInARow++;
      if (client.status !== 'ready' || failuresInARow >= failuresBeforeDown) toDown(reasonOf(error));
    },
    succeeded() {
      failuresInARow = 0;
    },
    whenUp(timeoutMs) {
      if (state === 'up' || closed) return Promise.resolve(state);
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(state);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          resolve(state);
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (probe) clearInterval(probe);
      for (const wake of waiters) wake();
      waiters.clear();
      client.disconnect();
    },
  };
}
