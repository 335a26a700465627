import type { Session } from '@rolegraph/credentials';
import {
  type AwsCallBudget,
  type AwsRateLimiter,
  canonicalJson,
  type RequestAnswerCache,
} from '@rolegraph/credentials/aws';
import type DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { type BucketLoaders, createBucketLoaders } from './bucket-loaders.js';
import { createBucketRegionLoader } from './bucket-region.js';
import type { LoaderContext } from './context.js';
import { type ListBucketsArgs, listBuckets } from './list-buckets.js';
import { type ListObjectsArgs, listObjects } from './list-objects.js';
import type { Bucket, ObjectPage, Page } from './types.js';

export interface S3LoadersOptions {
  /** The assumed-role session whose clients make every call. */
  session: Session;
  /** Cancels every call of these loaders; calls after it fired fail with `ABORTED` unsent. */
  signal?: AbortSignal;
  /**
   * AWS calls these loaders may send (shared with other loaders of the same request); once it
   * is spent, calls fail with `AWS_CALL_BUDGET_EXCEEDED` unsent. @default no limit
   */
  budget?: AwsCallBudget;
  /**
   * The request's view of the process-wide AWS-answer cache (`createAnswerCache().forRequest()`):
   * answers within their TTL are not asked again, identical calls in flight are shared.
   * @default no cache
   */
  cache?: RequestAnswerCache;
  /**
   * The process-wide rate limiter (`createAwsRateLimiter`). AWS meters S3 per bucket prefix at
   * rates far above what these loaders send, so it meters S3 only when configured to
   * (`limits: { burst, refillPerSecond }`). @default no limit
   */
  limits?: AwsRateLimiter;
  /**
   * Most per-bucket calls (region, tags, encryption, ..., listObjects) of this request in
   * flight at once. S3 has no batch API, so this is what keeps a wide query from a burst.
   * @default 16
   */
  concurrency?: number;
  /**
   * Region of account-level calls (ListBuckets) and of region lookups for unlisted buckets.
   * @default 'us-east-1'
   */
  defaultRegion?: string;
}

/**
 * The S3 loaders of one request. Build a new set per request: they cache what they load, and
 * the same listing arguments twice cost one listing.
 */
export interface S3Loaders extends BucketLoaders {
  /** One page of the account's buckets; primes `region` with each bucket's `BucketRegion`. */
  listBuckets(args?: ListBucketsArgs): Promise<Page<Bucket>>;
  /** Bucket name → region. */
  region: DataLoader<string, string, string>;
  listObjects(args: ListObjectsArgs): Promise<ObjectPage>;
}

/** Per request, like the DataLoaders: one listing per distinct arguments, however often asked. */
function once<A, R>(list: (args: A) => Promise<R>): (args: A) => Promise<R> {
  const listings = new Map<string, Promise<R>>();
  return (args) => {
    const key = canonicalJson(args ?? {});
    let listing = listings.get(key);
    if (!listing) {
      listing = list(args);
      listings.set(key, listing);
    }
    return listing;
  };
}

/**
 * Per-bucket calls of one request in flight at once, unless `concurrency` says otherwise.
 *
 * @example
 * createS3Loaders({ session, concurrency: DEFAULT_CONCURRENCY * 2 });
 */
export const DEFAULT_CONCURRENCY = 16;

/**
 * The per-request S3 loaders of one session.
 *
 * @example
 * const s3 = createS3Loaders({ session, signal: request.signal, concurrency: 8 });
 * const { items } = await s3.listBuckets({ first: 200 });        // 1 call, regions primed
 * const tags = await s3.tags.loadMany(items.map((b) => b.name)); // 1 call per bucket, ≤ 8 at once
 */
export function createS3Loaders(options: S3LoadersOptions): S3Loaders {
  const { session, signal, budget, cache, limits } = options;
  if (typeof session !== 'object' || session === null || typeof session.client !== 'function') {
    throw new TypeError(`createS3Loaders: session must be a Session, got ${String(session)}`);
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(
      `createS3Loaders: concurrency must be a positive integer, got ${String(options.concurrency)}`,
    );
  }
  const defaultRegion = options.defaultRegion ?? 'us-east-1';
  if (typeof defaultRegion !== 'string' || defaultRegion.length === 0) {
    throw new TypeError(`createS3Loaders: defaultRegion must be a region name, got ${String(defaultRegion)}`);
  }
  const ctx: LoaderContext = {
    session,
    signal,
    budget,
    cache,
    limits,
    limit: pLimit(concurrency),
    defaultRegion,
  };
  const region = createBucketRegionLoader(ctx);
  return {
    listBuckets: once((args?: ListBucketsArgs) => listBuckets(ctx, region, args)),
    region,
    ...createBucketLoaders(ctx, region),
    listObjects: once((args: ListObjectsArgs) => listObjects(ctx, region, args)),
  };
}
