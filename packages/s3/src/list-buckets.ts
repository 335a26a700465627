import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import type DataLoader from 'dataloader';
import type { S3Context } from './context.js';
import { abortedError, type ErrorContext, toS3Error } from './errors.js';
import type { Bucket, Page } from './types.js';

export interface ListBucketsArgs {
  /**
   * Page size, sent as `MaxBuckets` (1..10000). Always sent, because S3 only returns
   * `BucketRegion` when the request has a parameter.
   * @default 1000
   */
  first?: number;
  /** The `endCursor` of the previous page (S3's ContinuationToken). */
  after?: string | null;
  /** Only buckets whose name starts with this. */
  prefix?: string;
}

export const DEFAULT_BUCKET_PAGE_SIZE = 1000;
const MAX_BUCKETS = 10_000;

/**
 * One page of the account's buckets. Each bucket's `BucketRegion` primes `regionLoader`, so
 * a listed bucket's region, tags or encryption never cost a HeadBucket/GetBucketLocation.
 *
 * @example
 * const page = await listBuckets(ctx, regionLoader, { first: 200, prefix: 'logs-' });
 */
export async function listBuckets(
  ctx: S3Context,
  regionLoader: DataLoader<string, string, string>,
  args: ListBucketsArgs = {},
): Promise<Page<Bucket>> {
  const first = args.first ?? DEFAULT_BUCKET_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1) {
    throw new TypeError(`listBuckets: first must be a positive integer, got ${String(args.first)}`);
  }
  const context: ErrorContext = {
    accountId: ctx.session.accountId,
    region: ctx.defaultRegion,
    operation: 'ListBuckets',
    signal: ctx.signal,
  };
  try {
    if (ctx.signal?.aborted) throw abortedError(context);
    const output = await ctx.session.client(S3Client, ctx.defaultRegion).send(
      new ListBucketsCommand({
        MaxBuckets: Math.min(first, MAX_BUCKETS),
        ContinuationToken: args.after ?? undefined,
        Prefix: args.prefix,
      }),
      { abortSignal: ctx.signal },
    );
    const items: Bucket[] = [];
    for (const raw of output.Buckets ?? []) {
      if (!raw.Name) continue;
      const region = raw.BucketRegion ?? null;
      if (region) regionLoader.prime(raw.Name, region);
      items.push({
        name: raw.Name,
        accountId: ctx.session.accountId,
        creationDate: raw.CreationDate ?? null,
        region,
      });
    }
    const token = output.ContinuationToken ?? null;
    return { items, endCursor: token, hasNextPage: token !== null };
  } catch (error) {
    throw toS3Error(error, context);
  }
}
