import type { AnswerCache, AnswerCounts, RequestAnswerCache } from '@rolegraph/credentials/aws';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { parseCacheControl } from './cache-control.js';

/** What `extensions.cache` says about one account, or about the whole response. */
export interface CacheReportCounts {
  /** Answers served from the cache. */
  hits: number;
  /** Answers this request waited for on an identical AWS call another request had in flight. */
  shared: number;
  /** AWS calls this request sent. */
  misses: number;
  /** Age in whole seconds of the oldest answer the response is made of; `null` without any. */
  oldestAgeSeconds: number | null;
  /** When AWS gave the oldest answer (ISO-8601); `null` without any. */
  fetchedAt: string | null;
}

/** `extensions.cache` of a response: in total, and per account alias. */
export interface CacheReport extends CacheReportCounts {
  accounts: Record<string, CacheReportCounts>;
}

export interface AnswerCacheOptions {
  /** The process-wide cache every request's loaders read through. */
  cache: AnswerCache;
  /** The alias of an account id (reports name accounts as callers do). */
  aliasOf: (accountId: string) => string | undefined;
  metrics?: GatewayMetrics;
  /** @default Date.now */
  now?: () => number;
}

const views = new WeakMap<Request, RequestAnswerCache | GatewayError>();

/**
 * This request's view of the answer cache, made by `useAnswerCache` from its `Cache-Control`
 * header; `undefined` without the plugin. A malformed `max-age` is thrown here (`BAD_USER_INPUT`),
 * so the request fails before any AWS call.
 */
export function answerCacheOf(request: Request): RequestAnswerCache | undefined {
  const view = views.get(request);
  if (view instanceof Error) throw view;
  return view;
}

function counts(c: AnswerCounts, now: number): CacheReportCounts {
  const oldest = c.oldestStoredAt;
  return {
    hits: c.hits,
    shared: c.shared,
    misses: c.misses,
    oldestAgeSeconds: oldest === null ? null : Math.max(0, Math.floor((now - oldest) / 1000)),
    fetchedAt: oldest === null ? null : new Date(oldest).toISOString(),
  };
}

/**
 * The report of one request's view: totals, and per account by alias. Only accounts the
 * request itself used appear (each was authorized before its first call).
 *
 * @example
 * cacheReport(view, Date.now(), (id) => aliases.get(id)); // { hits: 2, misses: 0, oldestAgeSeconds: 14, ... }
 */
export function cacheReport(
  view: RequestAnswerCache,
  now: number,
  aliasOf: (accountId: string) => string | undefined,
): CacheReport {
  const stats = view.stats();
  const accounts: Record<string, CacheReportCounts> = {};
  for (const [id, c] of Object.entries(stats.accounts)) accounts[aliasOf(id) ?? id] = counts(c, now);
  return { ...counts(stats, now), accounts };
}

/**
 * Puts the AWS-answer cache under the caller's control and in sight: each request gets its view
 * of the shared cache with the freshness its `Cache-Control` header asks for (`no-cache`,
 * `max-age=N`), and its response says how old its data is in `extensions.cache`.
 *
 * @example
 * createYoga({ plugins: [useAnswerCache({ cache, aliasOf })],
 *   context: ({ request }) => ({ cache: answerCacheOf(request) }) });
 */
export function useAnswerCache(options: AnswerCacheOptions): Plugin<{ request?: Request }> {
  const { cache, aliasOf, metrics } = options;
  const now = options.now ?? Date.now;
  return {
    onRequest({ request }) {
      try {
        views.set(request, cache.forRequest(parseCacheControl(request.headers.get('cache-control'))));
      } catch (error) {
        views.set(request, error as GatewayError);
      }
    },
    onExecute({ args }) {
      const request = args.contextValue.request;
      const view = request ? views.get(request) : undefined;
      if (!view || view instanceof Error) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in Object(result)) return;
          const report = cacheReport(view, now(), aliasOf);
          metrics?.awsAnswers.inc({ source: 'cache' }, report.hits);
          metrics?.awsAnswers.inc({ source: 'shared' }, report.shared);
          metrics?.awsAnswers.inc({ source: 'aws' }, report.misses);
          const executed = result as ExecutionResult;
          setResult({ ...executed, extensions: { ...executed.extensions, cache: report } });
        },
      };
    },
  };
}
