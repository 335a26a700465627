/**
 * A token bucket as AWS describes its own: it holds at most `burst` tokens, gains
 * `refillPerSecond` tokens per second (fractions allowed: AWS publishes rates such as 0.1/s),
 * and every request takes one.
 */
export interface TokenBucketSpec {
  burst: number;
  refillPerSecond: number;
}

/**
 * Where token buckets live: process memory by default ({@link createMemoryBucketStore}), Redis
 * for gateway replicas that must share one account's buckets. Keys never carry a secret.
 */
export interface BucketStore {
  /** Takes one token from `key`'s bucket: 0 when taken, else the ms until one is available (nothing taken). */
  take(key: string, spec: TokenBucketSpec, nowMs: number): Promise<number> | number;
  /**
   * Empties `key`'s bucket: AWS throttled a call of it anyway. `nowMs` may lie ahead (a pause):
   * the bucket then holds nothing and refills only from that time on, like any bucket whose
   * last update is later than the clock (elapsed time below zero counts as none).
   */
  drain(key: string, spec: TokenBucketSpec, nowMs: number): Promise<void> | void;
}

/** The memory store, which can also say how many buckets it holds (for tests and metrics). */
export interface MemoryBucketStore extends BucketStore {
  /** Buckets held: a bucket that has refilled completely is forgotten (it equals a new one). */
  readonly size: number;
}

/**
 * Throws a `TypeError` naming `name` unless `spec` is a usable bucket: `burst` an integer >= 1,
 * `refillPerSecond` a finite number > 0.
 *
 * @example
 * checkTokenBucketSpec({ burst: 100, refillPerSecond: 20 }, 'limits.aws.ec2.nonMutating');
 */
export function checkTokenBucketSpec(spec: TokenBucketSpec, name: string): TokenBucketSpec {
  const ok =
    typeof spec === 'object' &&
    spec !== null &&
    Number.isInteger(spec.burst) &&
    spec.burst >= 1 &&
    Number.isFinite(spec.refillPerSecond) &&
    spec.refillPerSecond > 0;
  if (!ok) {
    throw new TypeError(
      `${name} must be { burst: an integer >= 1, refillPerSecond: a number > 0 }, got ${JSON.stringify(spec)}`,
    );
  }
  return spec;
}

/** Float slack: a bucket this close to a whole token holds it. */
const EPSILON = 1e-6;

/**
 * The tokens a bucket holds at `nowMs`, from what it held at `atMs`. A clock that went backwards
 * adds nothing.
 */
export function refilled(tokens: number, atMs: number, spec: TokenBucketSpec, nowMs: number): number {
  const elapsedMs = Math.max(0, nowMs - atMs);
  return Math.min(spec.burst, tokens + (elapsedMs * spec.refillPerSecond) / 1000);
}

/**
 * Milliseconds until a bucket holding `tokens` (< 1) holds one: at least 1.
 *
 * @example
 * msUntilToken(0, { burst: 100, refillPerSecond: 20 }); // 50
 */
export function msUntilToken(tokens: number, spec: TokenBucketSpec): number {
  // Less a hair, so float error (0.98 + 0.02 = 0.99999...) never adds a millisecond.
  return Math.max(1, Math.ceil(((1 - tokens) * 1000) / spec.refillPerSecond - EPSILON));
}

interface Bucket {
  tokens: number;
  atMs: number;
  /** Until when it may still be short of full: after this it equals a fresh bucket. */
  fullAtMs: number;
}

/** Sweep for full buckets after this many takes, so the map holds only buckets in use. */
const SWEEP_EVERY = 4096;

/**
 * Token buckets in this process's memory. A bucket is created full on first use and forgotten
 * once it has refilled completely, so memory follows the buckets in use, not every account and
 * region ever seen.
 *
 * @example
 * const store = createMemoryBucketStore();
 * const spec = { burst: 100, refillPerSecond: 20 };
 * store.take('ec2:111111111111:us-east-1:DescribeInstances', spec, Date.now()); // 0: taken
 */
export function createMemoryBucketStore(): MemoryBucketStore {
  const buckets = new Map<string, Bucket>();
  let sinceSweep = 0;

  const put = (key: string, tokens: number, nowMs: number, spec: TokenBucketSpec) => {
    const fullAtMs = nowMs + ((spec.burst - tokens) * 1000) / spec.refillPerSecond;
    const bucket = buckets.get(key);
    if (bucket) {
      bucket.tokens = tokens;
      bucket.atMs = Math.max(bucket.atMs, nowMs);
      bucket.fullAtMs = fullAtMs;
    } else {
      buckets.set(key, { tokens, atMs: nowMs, fullAtMs });
    }
  };
  const sweep = (nowMs: number) => {
    sinceSweep = 0;
    for (const [key, bucket] of buckets) if (bucket.fullAtMs <= nowMs) buckets.delete(key);
  };

  return {
    take(key, spec, nowMs) {
      if (++sinceSweep >= SWEEP_EVERY) sweep(nowMs);
      const bucket = buckets.get(key);
      const tokens = bucket ? refilled(bucket.tokens, bucket.atMs, spec, nowMs) : spec.burst;
      if (tokens >= 1 - EPSILON) {
        put(key, Math.max(0, tokens - 1), nowMs, spec);
        return 0;
      }
      put(key, tokens, nowMs, spec);
      return msUntilToken(tokens, spec);
    },
    drain(key, spec, nowMs) {
      put(key, 0, nowMs, spec);
    },
    get size() {
      return buckets.size;
    },
  };
}
