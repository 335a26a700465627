import { type BucketStore, checkTokenBucketSpec, type TokenBucketSpec } from '@rolegraph/credentials/aws';
import type { Redis } from 'ioredis';
import { withDeadline } from './redis-link.js';

/**
 * One token bucket, atomically (a Lua script runs alone on the Redis server). State: a hash
 * of `tokens` (fractional) and `at` (the ms they were counted at). KEYS[1]: the bucket;
 * ARGV: burst, refill per second, the caller's now in ms (empty: Redis's own TIME), and
 * `take` or `drain`. Returns 0 when a token was taken, else the ms until one is there (none
 * taken). A clock behind `at` (another replica's, or Redis after a failover) refills nothing
 * instead of going back. The key expires once the bucket would be full again, so idle buckets
 * cost no memory.
 */
export const TOKEN_BUCKET_LUA = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local wait = 0
if ARGV[4] == 'drain' then
  tokens = 0
elseif tokens >= 1 - 1e-6 then
  tokens = math.max(0, tokens - 1)
else
  -- Less a hair, so float error never adds a millisecond (as the memory store).
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate - 1e-6))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
`;

/** Whose clock the buckets count time by. */
export type BucketClock = 'redis' | 'caller';

export interface RedisBucketStoreOptions {
  client: Redis;
  /**
   * `redis` (default): Redis's `TIME`, one clock for every replica, so skew between the
   * replicas' clocks neither refills a bucket early nor starves it; the `nowMs` callers pass is
   * not used. `caller`: the `nowMs` each call passes (for tests with a fake clock, or replicas
   * whose clocks are known to agree).
   * @default 'redis'
   */
  clock?: BucketClock;
  /** Each command's deadline (`withDeadline`). @default 250 */
  commandTimeoutMs?: number;
}

interface BucketCommand {
  rolegraphTokenBucket(
    key: string,
    burst: number,
    perSecond: number,
    now: string,
    op: string,
  ): Promise<number>;
}

/**
 * Where a bucket lives in Redis (after the client's `keyPrefix`).
 *
 * @example
 * bucketKey('ec2:111111111111:us-east-1:DescribeInstances'); // 'bucket:ec2:111111111111:us-east-1:DescribeInstances'
 */
export function bucketKey(key: string): string {
  return `bucket:${key}`;
}

/**
 * Rate-limit token buckets in Redis, shared by every replica: one atomic Lua script per take
 * (ioredis `defineCommand`: `EVALSHA`, and the script again after a Redis restart emptied its
 * script cache). Errors are thrown; the fallback around it decides (see `createSharedStores`).
 *
 * @example
 * const buckets = createRedisBucketStore({ client: link.client });
 * const waitMs = await buckets.take('ec2:111111111111:us-east-1:describe', { burst: 100, refillPerSecond: 20 }, Date.now());
 */
export function createRedisBucketStore(options: RedisBucketStoreOptions): BucketStore {
  const { client } = options;
  const clock = options.clock ?? 'redis';
  const timeoutMs = options.commandTimeoutMs ?? 250;
  if (clock !== 'redis' && clock !== 'caller') {
    throw new TypeError(`createRedisBucketStore: clock must be 'redis' or 'caller', got ${String(clock)}`);
  }
  if (!('rolegraphTokenBucket' in client)) {
    client.defineCommand('rolegraphTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
  }
  const command = client as unknown as BucketCommand;
  const run = (key: string, spec: TokenBucketSpec, nowMs: number, op: 'take' | 'drain') => {
    checkTokenBucketSpec(spec, 'token bucket spec');
    const now = clock === 'caller' ? String(Math.floor(nowMs)) : '';
    return withDeadline(
      command.rolegraphTokenBucket(bucketKey(key), spec.burst, spec.refillPerSecond, now, op),
      timeoutMs,
    );
  };
  return {
    async take(key, spec, nowMs) {
      return Number(await run(key, spec, nowMs, 'take'));
    },
    async drain(key, spec, nowMs) {
      await run(key, spec, nowMs, 'drain');
    },
  };
}
