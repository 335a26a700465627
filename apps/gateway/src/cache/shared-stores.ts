import type { AnswerStore, BucketStore } from '@rolegraph/credentials/aws';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { createRedisAnswerStore } from './redis-answer-store.js';
import { type BucketClock, createRedisBucketStore } from './redis-bucket-store.js';
import type { RedisConfig } from './redis-config.js';
import { createRedisLink, type RedisLink } from './redis-link.js';

type FallbackMetrics = Pick<GatewayMetrics, 'redisFallbacks'> | undefined;
type FallbackLink = Pick<RedisLink, 'isUp' | 'state' | 'whenUp' | 'failed' | 'succeeded'>;

/**
 * For a call made while the link is not up: whether it goes to Redis after all. While the first
 * connection is being made (`connecting`, a replica that just started), it waits for it up to
 * `connectWaitMs` instead of spending this replica's own buckets and cache: the start-up calls
 * (the source identity, the first queries) are shared like every other. A link that is `down`
 * answers at once. Callers check `link.isUp()` first, so an up link costs no turn of the loop.
 */
async function connectedAtStart(link: FallbackLink, connectWaitMs: number): Promise<boolean> {
  if (link.state() !== 'connecting' || connectWaitMs <= 0) return false;
  return (await link.whenUp(connectWaitMs)) === 'up';
}

/**
 * `redis` while the link is up (at start, once its first connection is made, waiting up to
 * `connectWaitMs` for it), `local` otherwise and for any call Redis fails (failures turn the
 * link down, so the next calls do not wait for Redis at all).
 *
 * @example
 * const answers = answerStoreWithFallback(link, createRedisAnswerStore({ client: link.client }), memory, metrics);
 */
export function answerStoreWithFallback(
  link: FallbackLink,
  redis: AnswerStore,
  local: AnswerStore,
  metrics?: FallbackMetrics,
  connectWaitMs = 1000,
): AnswerStore {
  const fellBack = (operation: string) => metrics?.redisFallbacks.inc({ store: 'answers', operation });
  return {
    async get(key) {
      if (link.isUp() || (await connectedAtStart(link, connectWaitMs))) {
        try {
          const hit = await redis.get(key);
          link.succeeded();
          return hit;
        } catch (error) {
          link.failed(error);
        }
      }
      fellBack('get');
      return local.get(key);
    },
    async set(key, answer, ttlMs) {
      if (link.isUp() || (await connectedAtStart(link, connectWaitMs))) {
        try {
          await redis.set(key, answer, ttlMs);
          link.succeeded();
          return;
        } catch (error) {
          link.failed(error);
        }
      }
      fellBack('set');
      return local.set(key, answer, ttlMs);
    },
  };
}

/**
 * The same for token buckets: local buckets while Redis does not answer. A bad bucket spec (a
 * `TypeError`) is the caller's error and is thrown, not fallen back from.
 *
 * @example
 * const buckets = bucketStoreWithFallback(link, createRedisBucketStore({ client: link.client }), createMemoryBucketStore());
 */
export function bucketStoreWithFallback(
  link: FallbackLink,
  redis: BucketStore,
  local: BucketStore,
  metrics?: FallbackMetrics,
  connectWaitMs = 1000,
): BucketStore {
  const fellBack = (operation: string) => metrics?.redisFallbacks.inc({ store: 'buckets', operation });
  return {
    async take(key, spec, nowMs) {
      if (link.isUp() || (await connectedAtStart(link, connectWaitMs))) {
        try {
          const waitMs = await redis.take(key, spec, nowMs);
          link.succeeded();
          return waitMs;
        } catch (error) {
          if (error instanceof TypeError) throw error;
          link.failed(error);
        }
      }
      fellBack('take');
      return local.take(key, spec, nowMs);
    },
    async drain(key, spec, nowMs) {
      if (link.isUp() || (await connectedAtStart(link, connectWaitMs))) {
        try {
          await redis.drain(key, spec, nowMs);
          link.succeeded();
          return;
        } catch (error) {
          if (error instanceof TypeError) throw error;
          link.failed(error);
        }
      }
      fellBack('drain');
      return local.drain(key, spec, nowMs);
    },
  };
}

export interface SharedStoresOptions {
  config: RedisConfig;
  /** This replica's own stores, used while Redis does not answer. */
  local: { answers: AnswerStore; buckets: BucketStore };
  log: LogFn;
  metrics?: GatewayMetrics | undefined;
  /** @default 'redis' (see `createRedisBucketStore`) */
  bucketClock?: BucketClock | undefined;
  /** @default 1000 */
  probeIntervalMs?: number | undefined;
}

/** The answer cache and the token buckets in the shared Redis, each falling back to `local`. */
export interface SharedStores {
  answers: AnswerStore;
  buckets: BucketStore;
  link: RedisLink;
  close(): Promise<void>;
}

/**
 * Connects to the shared Redis (`cache.redis`) and returns an `AnswerStore` and a
 * `BucketStore` over it that fall back to the replica's own stores while Redis is down or
 * slow (warning once per transition, `rolegraph_gateway_cache_redis_up` 0, every operation served
 * locally counted in `rolegraph_gateway_cache_redis_fallbacks_total`) and go back once it
 * answers. Queries never fail because of Redis.
 *
 * @example
 * const shared = createSharedStores({
 *   config: { url: 'redis://127.0.0.1:6379', keyPrefix: 'rolegraph:', connectTimeoutMs: 1000, commandTimeoutMs: 100 },
 *   local: { answers: createMemoryAnswerStore({ maxBytes: 64 << 20 }), buckets: createMemoryBucketStore() },
 *   log,
 * });
 * await shared.answers.get(key);
 * await shared.close();
 */
export function createSharedStores(options: SharedStoresOptions): SharedStores {
  const { metrics, local } = options;
  const link = createRedisLink({
    config: options.config,
    log: options.log,
    metrics,
    probeIntervalMs: options.probeIntervalMs,
  });
  const timeouts = { commandTimeoutMs: options.config.commandTimeoutMs };
  const answers = createRedisAnswerStore({
    client: link.client,
    singleFlightMs: options.config.singleFlightMs,
    ...timeouts,
  });
  const buckets = createRedisBucketStore({
    client: link.client,
    clock: options.bucketClock ?? 'redis',
    ...timeouts,
  });
  return {
    answers: answerStoreWithFallback(link, answers, local.answers, metrics, options.config.connectTimeoutMs),
    buckets: bucketStoreWithFallback(link, buckets, local.buckets, metrics, options.config.connectTimeoutMs),
    link,
    close: () => link.close(),
  };
}
