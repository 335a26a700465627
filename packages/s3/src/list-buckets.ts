import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { callAws, cutPage, decodePageCursor } from '@rolegraph/credentials/aws';
import type DataLoader from 'dataloader';
import { CURSOR, callContext, type LoaderContext } from './context.js';
import type { Bucket, Page } from './types.js';

export interface ListBucketsArgs {
  /**
   * Page size, sent as `MaxBuckets` (1..10000). Always sent, because S3 only returns
   * `BucketRegion` when the request has a parameter.
   * @default 1000
   */
  first?: number;
  /** The `endCursor` of the previous page, or any item's cursor (S3's ContinuationToken, or a place in its page). */
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
  ctx: LoaderContext,
  regionLoader: DataLoader<string, string, string>,
  args: ListBucketsArgs = {},
): Promise<Page<Bucket>> {
  const first = args.first ?? DEFAULT_BUCKET_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1) {
    throw new TypeError(`listBuckets: first must be a positive integer, got ${String(args.first)}`);
  }
  const position = decodePageCursor(args.after);
  const input = {
    MaxBuckets: Math.min(position.skip + first, MAX_BUCKETS),
    ContinuationToken: position.token,
    Prefix: args.prefix,
  };
  const output = await callAws(
    callContext(ctx, ctx.defaultRegion, undefined, { cursor: args.after ? CURSOR : undefined }),
    { operation: 'ListBuckets', input },
    (signal) =>
      ctx.session
        .client(S3Client, ctx.defaultRegion)
        .send(new ListBucketsCommand(input), { abortSignal: signal }),
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
  return cutPage({ items, position, first, nextToken: output.ContinuationToken });
}
