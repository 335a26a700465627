import { type AnswerCache, type AnswerStore, createAnswerCache } from '@rolegraph/credentials/aws';
import { redact } from '../errors.js';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { CacheConfig } from './cache-config.js';

/**
 * The gateway's one process-wide AWS-answer cache, from `config.cache`: in memory, bounded by
 * `maxBytes` (or in `store`: the shared Redis with `cache.redis`), or nothing when
 * `enabled: false`.
 *
 * @example
 * const cache = createGatewayCache(config.cache, { log, metrics });
 */
export function createGatewayCache(
  config: CacheConfig,
  deps: { log: LogFn; metrics: GatewayMetrics; now?: () => number; store?: AnswerStore | undefined },
): AnswerCache | undefined {
  if (!config.enabled) return undefined;
  const { log, metrics } = deps;
  return createAnswerCache({
    maxBytes: config.maxBytes,
    ttlSeconds: config.ttlSeconds,
    ...(deps.store ? { store: deps.store } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    onStoreError(error, action) {
      metrics.answerStoreErrors.inc({ action });
      log({
        level: 'warn',
        msg: 'answer store failed; served as a miss',
        action,
        error: error instanceof Error ? redact(error.message) : undefined,
      });
    },
  });
}
