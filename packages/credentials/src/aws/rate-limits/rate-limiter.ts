import type { Timers } from '../../refreshing-credentials.js';
import {
  type AwsRateLimits,
  type AwsRateLimitsInput,
  classifyAwsCall,
  type RateLimitBucket,
  type RateLimitedCall,
  resolveAwsRateLimits,
} from './aws-rate-limits.js';
import { type BucketStore, createMemoryBucketStore, type TokenBucketSpec } from './token-bucket.js';

/** What a limiter has done so far, for metrics and tests. */
export interface RateLimiterStats {
  /** Tokens taken: calls (and SDK retries) let through. */
  taken: number;
  /** Of those, how many had to wait for their bucket. */
  waited: number;
  /** Sum of those waits in ms. */
  waitedMs: number;
  /** Waits given up because the caller's signal fired. */
  aborted: number;
  /** Throttling answers that still arrived (each drained its bucket). */
  throttled: number;
  /** Store failures; the call was let through (a broken store must not stop every AWS call). */
  storeErrors: number;
}

/**
 * Client-side token buckets that mirror AWS's: a call waits for a token of its bucket instead of
 * being sent to be throttled, and a throttling answer that still arrives empties that bucket
 * only. One limiter per process (or per fleet, over a shared `BucketStore`).
 */
export interface AwsRateLimiter {
  /** The classes and specs in force. */
  readonly limits: AwsRateLimits;
  /**
   * The bucket `call` draws from, or `undefined` when its class is not metered.
   *
   * @example
   * const bucket = limiter.bucketOf({ service: 'ec2', accountId, region, operation: 'DescribeVolumes', input });
   */
  bucketOf(call: RateLimitedCall): RateLimitBucket | undefined;
  /**
   * Resolves once a token of `bucket` is taken. Waiters of one bucket are served first come,
   * first served; once `signal` fires the wait ends with `signal.reason` and takes nothing.
   *
   * @example
   * await limiter.acquire(bucket, request.signal);
   */
  acquire(bucket: RateLimitBucket, signal?: AbortSignal): Promise<void>;
  /**
   * AWS throttled a call of `bucket` anyway (another client shares the account): empty the
   * bucket, so its next calls wait for a refill. Other buckets are not touched.
   *
   * @example
   * if (awsErrorCode(error) === 'RequestLimitExceeded') await limiter.throttled(bucket);
   */
  throttled(bucket: RateLimitBucket): Promise<void>;
  stats(): RateLimiterStats;
}

export interface AwsRateLimiterOptions {
  /** Overrides per class; the rest are AWS's defaults (`AWS_RATE_LIMITS`). */
  limits?: AwsRateLimitsInput;
  /** What the overrides apply to. @default AWS_RATE_LIMITS */
  base?: AwsRateLimits;
  /** Where buckets live. @default createMemoryBucketStore() */
  store?: BucketStore;
  /**
   * The share of every bucket left unused, so that calls released at exactly AWS's rate still
   * meet a bucket holding a few tokens when they arrive, however much their delays on the way
   * vary: a reserve of R tokens absorbs R / refillPerSecond of it (5% of EC2's 100 + 20/s
   * bucket: 250 ms). At least one token, none for a bucket of one. After a throttle the bucket
   * is drained and also pauses until that reserve has refilled at AWS.
   * @default 0.05
   */
  headroom?: number;
  /** Told about every store failure (the call it was for went through). */
  onStoreError?: (error: unknown) => void;
  /** @default Date.now */
  now?: () => number;
  /** @default the global timers */
  timers?: Timers;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  since: number;
}

interface Queue {
  bucket: RateLimitBucket;
  waiters: Waiter[];
  pumping: boolean;
}

const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * A limiter over AWS's published buckets (or `limits`), in memory unless a `store` is given.
 *
 * @example
 * const limits = createAwsRateLimiter();
 * await callAws({ session, service: 'ec2', region, signal, limits }, { operation, input }, send);
 */
export function createAwsRateLimiter(options: AwsRateLimiterOptions = {}): AwsRateLimiter {
  const limits = resolveAwsRateLimits(options.limits, options.base);
  const store = options.store ?? createMemoryBucketStore();
  if (typeof store.take !== 'function' || typeof store.drain !== 'function') {
    throw new TypeError(
      'createAwsRateLimiter: store must have take(key, spec, nowMs) and drain(key, spec, nowMs)',
    );
  }
  const headroom = options.headroom ?? 0.05;
  if (!Number.isFinite(headroom) || headroom < 0 || headroom >= 1) {
    throw new TypeError(`createAwsRateLimiter: headroom must be in [0, 1), got ${String(options.headroom)}`);
  }
  const now = options.now ?? Date.now;
  const timers = options.timers ?? globalTimers;
  const stats: RateLimiterStats = {
    taken: 0,
    waited: 0,
    waitedMs: 0,
    aborted: 0,
    throttled: 0,
    storeErrors: 0,
  };
  const queues = new Map<string, Queue>();
  // Until when a throttled bucket lets nothing through (its reserve refills meanwhile).
  const pausedUntil = new Map<string, number>();
  const reserves = new WeakMap<TokenBucketSpec, { spec: TokenBucketSpec; pauseMs: number }>();
  /** The bucket as the store keeps it: AWS's, less the reserve. */
  const reserved = (spec: TokenBucketSpec) => {
    let entry = reserves.get(spec);
    if (!entry) {
      const tokens =
        spec.burst <= 1 || headroom === 0
          ? 0
          : Math.min(spec.burst - 1, Math.max(1, Math.ceil(spec.burst * headroom)));
      entry = {
        spec: { burst: spec.burst - tokens, refillPerSecond: spec.refillPerSecond },
        pauseMs: Math.ceil((tokens * 1000) / spec.refillPerSecond),
      };
      reserves.set(spec, entry);
    }
    return entry;
  };
  const pauseLeft = (key: string): number => {
    const until = pausedUntil.get(key);
    if (until === undefined) return 0;
    const left = until - now();
    if (left <= 0) pausedUntil.delete(key);
    return Math.max(0, left);
  };

  const storeFailed = (error: unknown) => {
    stats.storeErrors++;
    try {
      options.onStoreError?.(error);
    } catch {
      // A faulty listener must not break AWS calls.
    }
  };
  /** The store's answer, or 0 (let it through) when the store fails. */
  const take = (bucket: RateLimitBucket): number | Promise<number> => {
    const paused = pauseLeft(bucket.key);
    if (paused > 0) return paused;
    try {
      const answer = store.take(bucket.key, reserved(bucket.spec).spec, now());
      return isPromise(answer)
        ? answer.then(
            (ms) => ms,
            (error: unknown) => {
              storeFailed(error);
              return 0;
            },
          )
        : answer;
    } catch (error) {
      storeFailed(error);
      return 0;
    }
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => timers.setTimeout(resolve, ms));

  const pump = async (queue: Queue, firstWaitMs: number) => {
    queue.pumping = true;
    let waitMs = firstWaitMs;
    try {
      while (queue.waiters.length > 0) {
        if (waitMs > 0) {
          await sleep(waitMs);
          waitMs = 0;
          continue;
        }
        const answer = await take(queue.bucket);
        const head = queue.waiters[0];
        if (answer > 0) {
          waitMs = answer;
          continue;
        }
        // The head may have aborted while the store answered: the token goes to the next one.
        if (!head) break;
        queue.waiters.shift();
        if (head.onAbort) head.signal?.removeEventListener('abort', head.onAbort);
        stats.taken++;
        stats.waited++;
        stats.waitedMs += Math.max(0, now() - head.since);
        head.resolve();
      }
    } finally {
      queue.pumping = false;
      if (queue.waiters.length === 0 && queues.get(queue.bucket.key) === queue)
        queues.delete(queue.bucket.key);
    }
  };

  const enqueue = (queue: Queue, signal: AbortSignal | undefined, firstWaitMs: number) =>
    new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, since: now() };
      if (signal) {
        waiter.onAbort = () => {
          const at = queue.waiters.indexOf(waiter);
          if (at >= 0) queue.waiters.splice(at, 1);
          stats.aborted++;
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      queue.waiters.push(waiter);
      if (!queue.pumping) void pump(queue, firstWaitMs);
    });

  return {
    limits,
    bucketOf: (call) => classifyAwsCall(call, limits),
    async acquire(bucket, signal) {
      if (signal?.aborted) throw signal.reason;
      let queue = queues.get(bucket.key);
      let firstWaitMs = 0;
      if (!queue) {
        // Nobody of this process waits on the bucket: try it at once.
        const answer = take(bucket);
        const ms = isPromise(answer) ? await answer : answer;
        if (ms === 0) {
          stats.taken++;
          return;
        }
        if (signal?.aborted) throw signal.reason;
        queue = queues.get(bucket.key);
        if (!queue) {
          queue = { bucket, waiters: [], pumping: false };
          queues.set(bucket.key, queue);
        }
        firstWaitMs = ms;
      }
      return enqueue(queue, signal, firstWaitMs);
    },
    async throttled(bucket) {
      stats.throttled++;
      // Drained as of the end of the pause: the store refills it from then on, while AWS's
      // bucket refills from now, so the reserve is back at AWS when calls resume.
      const { spec, pauseMs } = reserved(bucket.spec);
      const resumeAt = now() + pauseMs;
      pausedUntil.set(bucket.key, Math.max(pausedUntil.get(bucket.key) ?? 0, resumeAt));
      if (pausedUntil.size > 10_000) for (const key of [...pausedUntil.keys()]) pauseLeft(key);
      try {
        await store.drain(bucket.key, spec, resumeAt);
      } catch (error) {
        storeFailed(error);
      }
    },
    stats: () => ({ ...stats }),
  };
}
