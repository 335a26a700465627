import { deserialize, serialize } from 'node:v8';
import { LRUCache } from 'lru-cache';
import { followSignal } from '../follow-signal.js';
import { type AnswerKeyParts, answerKey } from './answer-key.js';
import { type AnswerStore, createMemoryAnswerStore, type StoredAnswer } from './answer-store.js';

/**
 * How long answers are kept, in seconds, by `service:Operation`, by `service`, or `default`
 * (the most specific wins); 0 keeps nothing (identical calls in flight are still shared).
 */
export type AnswerTtlSeconds = Readonly<Record<string, number>>;

/**
 * The TTLs the cache starts from: a minute for lists and bucket attributes, an hour for the
 * regions an account has enabled (they change by an opt-in that takes hours), nothing for
 * `GetCallerIdentity` (it is the live check of an account's credentials).
 */
export const DEFAULT_ANSWER_TTL_SECONDS: AnswerTtlSeconds = Object.freeze({
  default: 60,
  'ec2:DescribeRegions': 3600,
  'sts:GetCallerIdentity': 0,
});

/** @default bytes the default in-memory store holds (64 MiB). */
export const DEFAULT_ANSWER_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * How many answers (by their serialized size) are also kept decoded, so that a hit on a value
 * the memory store holds is read without decoding it again (16 MiB).
 */
export const DECODED_ANSWERS_MAX_BYTES = 16 * 1024 * 1024;

/** Whether `value` and everything in it can be frozen: byte arrays (ArrayBuffer views) cannot. */
function freezable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (ArrayBuffer.isView(value)) return false;
  return Object.values(value).every(freezable);
}

/** `value`, and everything in it, frozen: one decoded answer handed to many callers. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Only these are cached: reads, by the AWS naming convention. Anything else is sent as it is. */
const READ_OPERATION = /^(Describe|Get|List|Head)[A-Z0-9]/;
const TTL_NAME = /^(default|[a-z0-9-]+(:[A-Za-z0-9]+)?)$/;

/**
 * Whether an operation only reads (`Describe*`, `Get*`, `List*`, `Head*`): the only ones the
 * answer cache serves or shares.
 *
 * @example
 * isReadOperation('DescribeInstances'); // true
 * isReadOperation('TerminateInstances'); // false
 */
export function isReadOperation(operation: string): boolean {
  return READ_OPERATION.test(operation);
}

export interface AnswerCacheOptions {
  /** Where answers live. @default a `createMemoryAnswerStore({ maxBytes })` */
  store?: AnswerStore;
  /** The bound of the default memory store (ignored with `store`). @default 64 MiB */
  maxBytes?: number;
  /** Overrides of `DEFAULT_ANSWER_TTL_SECONDS`, merged over them. */
  ttlSeconds?: AnswerTtlSeconds;
  /** @default Date.now */
  now?: () => number;
  /**
   * A store that failed to read or write (Redis down): the call goes on as a miss, and this
   * is told. @default ignore
   */
  onStoreError?: (error: unknown, action: 'get' | 'set') => void;
}

/** What a request accepts from the cache (from `Cache-Control`, say). */
export interface AnswerFreshness {
  /** Serve no stored answer: fetch from AWS (or join an identical call in flight) and store it anew. */
  noCache?: boolean;
  /** Serve stored answers at most this old; never extends an answer's TTL. */
  maxAgeMs?: number;
}

/** One request's counts, for one account or all of them. */
export interface AnswerCounts {
  /** Answers served from the store. */
  hits: number;
  /** Answers this request waited for on an identical call another request had in flight. */
  shared: number;
  /** Calls this request sent to AWS. */
  misses: number;
  /** Epoch ms of the oldest answer used, `null` before any. */
  oldestStoredAt: number | null;
}

/** `AnswerCounts` of a request, and per account id. */
export interface AnswerCacheStats extends AnswerCounts {
  accounts: Record<string, AnswerCounts>;
}

/** One cacheable AWS call: what the key is made of, and the caller's signal. */
export interface AnswerCall extends AnswerKeyParts {
  signal?: AbortSignal | undefined;
}

/** How the call is sent when nothing stored or in flight can answer it. */
export interface AnswerSend<T> {
  /**
   * Called synchronously right before this caller starts the AWS call (never for a hit or a
   * shared call); throwing refuses the call to this caller only. `callAws` takes its budget here.
   */
  beforeSend?(): void;
  /** Sends the call. The signal is the shared call's own: aborted only once every waiter left. */
  send(signal: AbortSignal): Promise<T>;
}

/** The answer cache as one request uses it (`AwsCallContext.cache`). */
export interface RequestAnswerCache {
  /**
   * The answer of `call`: stored (within its TTL and the request's freshness), from an identical
   * call in flight, or sent through `send` and stored. Errors are never stored; a caller whose
   * signal fires is rejected with its signal's reason, without cancelling the call for others.
   *
   * @example
   * const output = await view.answer({ roleArn, accountId, region, service: 'ec2', operation, input, signal },
   *   { send: (s) => client.send(new DescribeInstancesCommand(input), { abortSignal: s }) });
   */
  answer<T>(call: AnswerCall, send: AnswerSend<T>): Promise<T>;
  /** What this request got from where, in total and per account. */
  stats(): AnswerCacheStats;
}

/** The process-wide cache of AWS answers: one per gateway, shared by every request. */
export interface AnswerCache {
  /**
   * A request's view: its freshness and its own counts.
   *
   * @example
   * const view = cache.forRequest({ maxAgeMs: 10_000 });
   * createEc2Loaders({ session, cache: view });
   */
  forRequest(freshness?: AnswerFreshness): RequestAnswerCache;
  /** The TTL of `service:operation` in ms (0: not stored). */
  ttlMs(service: string, operation: string): number;
  /** Calls in flight now (shared by their waiters). */
  readonly inFlight: number;
}

interface Flight {
  promise: Promise<{ value: unknown; bytes: Uint8Array | undefined; storedAt: number }>;
  controller: AbortController;
  waiters: number;
}

function checkTtls(ttlSeconds: AnswerTtlSeconds | undefined): Map<string, number> {
  const merged = new Map<string, number>();
  for (const [name, seconds] of Object.entries({ ...DEFAULT_ANSWER_TTL_SECONDS, ...ttlSeconds })) {
    if (!TTL_NAME.test(name)) {
      throw new TypeError(
        `createAnswerCache: ttlSeconds key ${JSON.stringify(name)} must be default, a service (ec2) or service:Operation (ec2:DescribeInstances)`,
      );
    }
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new TypeError(
        `createAnswerCache: ttlSeconds[${JSON.stringify(name)}] must be a number of seconds >= 0, got ${String(seconds)}`,
      );
    }
    merged.set(name, seconds * 1000);
  }
  return merged;
}

function emptyCounts(): AnswerCounts {
  return { hits: 0, shared: 0, misses: 0, oldestStoredAt: null };
}

function count(counts: AnswerCounts, kind: 'hits' | 'shared' | 'misses', storedAt: number): void {
  counts[kind]++;
  if (counts.oldestStoredAt === null || storedAt < counts.oldestStoredAt) counts.oldestStoredAt = storedAt;
}

/** Waits for `promise`, or rejects with the signal's reason once it fires (the work goes on). */
function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => void,
): Promise<T> {
  if (!signal) return promise;
  // One listener on the request's signal for all its waits (see followSignal).
  const follow = followSignal(signal);
  return new Promise<T>((resolve, reject) => {
    follow.signal?.addEventListener(
      'abort',
      () => {
        onAbort();
        reject(signal.reason);
      },
      { once: true },
    );
    promise.then(
      (value) => {
        follow.release();
        resolve(value);
      },
      (error: unknown) => {
        follow.release();
        reject(error);
      },
    );
  });
}

/**
 * The cache of AWS answers at the seam (`callAws`): keyed by role ARN, account, region,
 * service, operation and canonical input; kept for a TTL per service/operation; identical calls
 * in flight share one AWS call, whatever the TTL. Errors are never kept. Only read operations
 * are served from it; what `send` returns is what is kept, serialized with node:v8 (Dates stay
 * Dates). The caller that sent gets what `send` returned; every other caller gets a decoded,
 * deeply frozen copy, shared by the hits on the same stored value (read it, never change it);
 * an answer holding byte arrays, which cannot be frozen, is a copy of its own on every hit.
 *
 * @example
 * const answers = createAnswerCache({ maxBytes: 32 * 1024 * 1024, ttlSeconds: { 'ec2:DescribeInstances': 30 } });
 * // per request:
 * const cache = answers.forRequest({ noCache: request.headers.get('cache-control') === 'no-cache' });
 * const ec2 = createEc2Loaders({ session, cache });
 */
export function createAnswerCache(options: AnswerCacheOptions = {}): AnswerCache {
  const ttls = checkTtls(options.ttlSeconds);
  const now = options.now ?? Date.now;
  const store =
    options.store ??
    createMemoryAnswerStore({ maxBytes: options.maxBytes ?? DEFAULT_ANSWER_CACHE_MAX_BYTES, now });
  if (typeof store?.get !== 'function' || typeof store.set !== 'function') {
    throw new TypeError('createAnswerCache: store must have get(key) and set(key, answer, ttlMs)');
  }
  const onStoreError = options.onStoreError ?? (() => {});
  const flights = new Map<string, Flight>();
  // Keyed by the stored bytes themselves: the memory store hands back the same Uint8Array on
  // every hit (a Redis store a new one per read, which then decodes as before). Evicted from
  // the store, an entry goes out of here by LRU.
  const decoded = new LRUCache<Uint8Array, object>({
    maxSize: DECODED_ANSWERS_MAX_BYTES,
    sizeCalculation: (_value, bytes) => Math.max(1, bytes.byteLength),
  });
  const decode = <T>(bytes: Uint8Array): T => {
    const known = decoded.get(bytes);
    if (known !== undefined) return known as T;
    const value = deserialize(bytes) as T;
    // Only objects without byte arrays can be frozen and shared; anything else is a copy of its
    // own, decoded on every hit.
    if (value === null || typeof value !== 'object' || !freezable(value)) return value;
    decoded.set(bytes, deepFreeze(value));
    return value;
  };
  const ttlCache = new Map<string, number>();

  const ttlMs = (service: string, operation: string): number => {
    const name = `${service}:${operation}`;
    let ttl = ttlCache.get(name);
    if (ttl === undefined) {
      ttl = ttls.get(name) ?? ttls.get(service) ?? ttls.get('default') ?? 0;
      ttlCache.set(name, ttl);
    }
    return ttl;
  };

  const read = async (key: string): Promise<StoredAnswer | undefined> => {
    try {
      return await store.get(key);
    } catch (error) {
      onStoreError(error, 'get');
      return undefined;
    }
  };

  const write = async (key: string, answer: StoredAnswer, ttl: number): Promise<void> => {
    try {
      await store.set(key, answer, ttl);
    } catch (error) {
      onStoreError(error, 'set');
    }
  };

  const start = <T>(key: string, ttl: number, send: AnswerSend<T>): Flight => {
    send.beforeSend?.();
    const controller = new AbortController();
    const promise = (async () => {
      const value = await send.send(controller.signal);
      const storedAt = now();
      let bytes: Uint8Array | undefined;
      try {
        bytes = serialize(value);
      } catch {
        // Not plain data (a function, a class with native state): shared in flight, never stored.
      }
      return { value, bytes, storedAt };
    })();
    const flight: Flight = { promise, controller, waiters: 0 };
    const forget = () => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    flights.set(key, flight);
    promise.then(async ({ bytes, storedAt }) => {
      // Findable until the store has the answer, so a caller arriving meanwhile does not miss.
      if (bytes && ttl > 0) await write(key, { value: bytes, storedAt }, ttl);
      forget();
    }, forget); // failures are not kept: the next caller tries again
    return flight;
  };

  return {
    get inFlight() {
      return flights.size;
    },
    ttlMs,
    forRequest(freshness = {}) {
      const noCache = freshness.noCache === true;
      const maxAgeMs = freshness.maxAgeMs;
      if (maxAgeMs !== undefined && !(Number.isFinite(maxAgeMs) && maxAgeMs >= 0)) {
        throw new TypeError(`forRequest: maxAgeMs must be a number >= 0, got ${String(maxAgeMs)}`);
      }
      const total = emptyCounts();
      const accounts = new Map<string, AnswerCounts>();
      const record = (accountId: string, kind: 'hits' | 'shared' | 'misses', storedAt: number) => {
        count(total, kind, storedAt);
        let counts = accounts.get(accountId);
        if (!counts) {
          counts = emptyCounts();
          accounts.set(accountId, counts);
        }
        count(counts, kind, storedAt);
      };

      const join = async <T>(key: string, flight: Flight, call: AnswerCall, sent: boolean): Promise<T> => {
        flight.waiters++;
        const { signal } = call;
        const outcome = await untilAborted(flight.promise, signal, () => {
          flight.waiters--;
          if (flight.waiters === 0) {
            // Nobody waits any more: cancel the call, and let the next caller start afresh.
            flight.controller.abort(signal?.reason);
            if (flights.get(key) === flight) flights.delete(key);
          }
        });
        flight.waiters--;
        record(call.accountId, sent ? 'misses' : 'shared', outcome.storedAt);
        // The sender gets what send returned; everyone else the shared, frozen decoded copy.
        if (sent || !outcome.bytes) return outcome.value as T;
        return decode<T>(outcome.bytes);
      };

      return {
        stats() {
          const byAccount: Record<string, AnswerCounts> = {};
          for (const [id, counts] of accounts) byAccount[id] = { ...counts };
          return { ...total, accounts: byAccount };
        },
        async answer<T>(call: AnswerCall, send: AnswerSend<T>): Promise<T> {
          const { signal } = call;
          if (signal?.aborted) throw signal.reason;
          const key = answerKey(call);
          const ttl = ttlMs(call.service, call.operation);
          let flight = flights.get(key);
          if (flight) return join<T>(key, flight, call, false);
          const limit = Math.min(ttl, maxAgeMs ?? Number.POSITIVE_INFINITY);
          if (ttl > 0 && !noCache) {
            const stored = await read(key);
            if (signal?.aborted) throw signal.reason;
            if (stored && now() - stored.storedAt <= limit) {
              try {
                const value = decode<T>(stored.value);
                record(call.accountId, 'hits', stored.storedAt);
                return value;
              } catch (error) {
                // A value this process cannot read (another version wrote it): a miss.
                onStoreError(error, 'get');
              }
            }
            // Someone may have started the call while the store answered.
            flight = flights.get(key);
            if (flight) return join<T>(key, flight, call, false);
          }
          return join<T>(key, start(key, ttl, send), call, true);
        },
      };
    },
  };
}
