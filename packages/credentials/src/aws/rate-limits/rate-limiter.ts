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
  /**
   * Bursts from a full bucket whose refill was held until their first request left (see
   * {@link AwsRateLimiter.sent}).
   */
  held: number;
}

/** How a token will be used. */
export interface AcquireOptions {
  /**
   * The token's request leaves later than now: it goes through the SDK's pipeline first (an
   * AssumeRole metered before `send`). The caller reports when it leaves with
   * {@link AwsRateLimiter.sent}. A burst from a full bucket then lets no refilled token through
   * until its first request has left, because AWS's bucket, full until that request arrives,
   * gains nothing meanwhile while this one counts its refill from the first token.
   */
  sendsLater?: boolean;
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
  acquire(bucket: RateLimitBucket, signal?: AbortSignal, options?: AcquireOptions): Promise<void>;
  /**
   * A request of `bucket` is leaving now (called just before it is signed). After a burst
   * acquired with `sendsLater`, the first one releases the refill held since: what the store
   * counted meanwhile is dropped when callers are queued, so this bucket refills from the moment
   * AWS's starts to.
   *
   * @example
   * await limiter.acquire(bucket, signal, { sendsLater: true });
   * // ... serialize, resolve the signing identity ...
   * limiter.sent(bucket);
   */
  sent(bucket: RateLimitBucket): void;
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
  /**
   * The longest a burst acquired with `sendsLater` holds its bucket's refill when its first
   * request never reports leaving (it failed before it was sent): then the bucket goes on as
   * if no hold had been made.
   * @default 5000
   */
  maxHoldMs?: number;
}

/** A burst from a full bucket whose first request has not left yet. */
interface Hold {
  /** Tokens let through since the hold began: at most `cap` (the bucket, less the reserve). */
  granted: number;
  cap: number;
  released: Promise<void>;
  /** Ends the hold (forgotten, waiters released); once is enough, more is harmless. */
  end(): void;
  timer: unknown;
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
  const maxHoldMs = options.maxHoldMs ?? 5000;
  if (!Number.isFinite(maxHoldMs) || maxHoldMs < 0) {
    throw new TypeError(
      `createAwsRateLimiter: maxHoldMs must be a number >= 0, got ${String(options.maxHoldMs)}`,
    );
  }
  const stats: RateLimiterStats = {
    taken: 0,
    waited: 0,
    waitedMs: 0,
    aborted: 0,
    throttled: 0,
    storeErrors: 0,
    held: 0,
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
  // Bursts held until their first request leaves, and when a request of a `sendsLater` bucket
  // last left: a bucket untouched for burst / refill seconds is full again (at AWS too).
  const holds = new Map<string, Hold>();
  const lastSent = new Map<string, number>();
  let sinceSweep = 0;
  const fullAgainMs = (spec: TokenBucketSpec) => (spec.burst * 1000) / spec.refillPerSecond;
  const startHold = (bucket: RateLimitBucket) => {
    const at = lastSent.get(bucket.key);
    if (holds.has(bucket.key) || (at !== undefined && now() - at < fullAgainMs(bucket.spec))) return;
    let resolve = () => {};
    const released = new Promise<void>((r) => {
      resolve = r;
    });
    const hold: Hold = {
      granted: 1,
      cap: reserved(bucket.spec).spec.burst,
      released,
      end() {
        if (holds.get(bucket.key) === hold) holds.delete(bucket.key);
        timers.clearTimeout(hold.timer);
        resolve();
      },
      timer: undefined,
    };
    hold.timer = timers.setTimeout(() => hold.end(), maxHoldMs);
    (hold.timer as { unref?: () => void } | undefined)?.unref?.();
    holds.set(bucket.key, hold);
    stats.held++;
  };
  /** Whether the bucket may let one more token through now (false: wait for `held.released`). */
  const heldBack = (key: string): Hold | undefined => {
    const hold = holds.get(key);
    return hold && hold.granted >= hold.cap ? hold : undefined;
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
        const held = heldBack(queue.bucket.key);
        if (held) {
          await held.released;
          continue;
        }
        const answer = await take(queue.bucket);
        const head = queue.waiters[0];
        if (answer > 0) {
          waitMs = answer;
          continue;
        }
        const hold = holds.get(queue.bucket.key);
        if (hold) hold.granted++;
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
    async acquire(bucket, signal, acquireOptions) {
      if (signal?.aborted) throw signal.reason;
      let queue = queues.get(bucket.key);
      let firstWaitMs = 0;
      if (!queue && !heldBack(bucket.key)) {
        // Nobody of this process waits on the bucket: try it at once.
        const answer = take(bucket);
        const ms = isPromise(answer) ? await answer : answer;
        if (ms === 0) {
          stats.taken++;
          const hold = holds.get(bucket.key);
          if (hold) hold.granted++;
          else if (acquireOptions?.sendsLater) startHold(bucket);
          return;
        }
        if (signal?.aborted) throw signal.reason;
        queue = queues.get(bucket.key);
        firstWaitMs = ms;
      }
      if (!queue) {
        // The bucket is empty, or held by a burst whose first request has not left yet.
        queue = { bucket, waiters: [], pumping: false };
        queues.set(bucket.key, queue);
      }
      return enqueue(queue, signal, firstWaitMs);
    },
    sent(bucket) {
      lastSent.set(bucket.key, now());
      if (++sinceSweep >= 4096) {
        sinceSweep = 0;
        const at = now();
        for (const [key, sentAt] of lastSent) if (at - sentAt >= 3_600_000) lastSent.delete(key);
      }
      const hold = holds.get(bucket.key);
      if (!hold) return;
      if ((queues.get(bucket.key)?.waiters.length ?? 0) === 0) {
        hold.end();
        return;
      }
      // Callers queued: the store counted a refill from the burst's first token, AWS counts it
      // from the arrival of its first request (its bucket was full until then). Drop what the
      // store gained meanwhile, then let the queue go on; the hold lets nothing through until then.
      hold.cap = hold.granted;
      timers.clearTimeout(hold.timer);
      try {
        const drained = store.drain(bucket.key, reserved(bucket.spec).spec, now());
        if (isPromise(drained)) {
          drained.then(
            () => hold.end(),
            (error: unknown) => {
              storeFailed(error);
              hold.end();
            },
          );
          return;
        }
      } catch (error) {
        storeFailed(error);
      }
      hold.end();
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
