import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type DataLoader from 'dataloader';
import type { S3Context } from './context.js';
import { abortedError, type ErrorContext, toS3Error } from './errors.js';
import type { ObjectPage } from './types.js';

export interface ListObjectsArgs {
  bucket: string;
  prefix?: string;
  /** Usually `/`: keys below the next delimiter are rolled up into `commonPrefixes`. */
  delimiter?: string;
  /**
   * Page size, sent as `MaxKeys` (S3 returns at most 1000).
   * @default 1000
   */
  first?: number;
  /** The `endCursor` of the previous page (S3's ContinuationToken). */
  after?: string | null;
}

const MAX_KEYS = 1000;

const unquote = (etag: string | undefined) => (etag === undefined ? null : etag.replace(/^"(.*)"$/, '$1'));

/**
 * One page of a bucket's objects (ListObjectsV2), sent to the bucket's region and capped by
 * the request's concurrency limit.
 *
 * @example
 * const page = await listObjects(ctx, regionLoader, { bucket: 'logs', prefix: '2024/', delimiter: '/', first: 100 });
 */
export async function listObjects(
  ctx: S3Context,
  regionLoader: DataLoader<string, string, string>,
  args: ListObjectsArgs,
): Promise<ObjectPage> {
  const first = args.first ?? MAX_KEYS;
  if (!Number.isInteger(first) || first < 1) {
    throw new TypeError(`listObjects: first must be a positive integer, got ${String(args.first)}`);
  }
  const { bucket } = args;
  const region = await regionLoader.load(bucket);
  const context: ErrorContext = {
    accountId: ctx.session.accountId,
    region,
    operation: 'ListObjectsV2',
    bucket,
    signal: ctx.signal,
  };
  return ctx.limit(async () => {
    try {
      if (ctx.signal?.aborted) throw abortedError(context);
      const output = await ctx.session.client(S3Client, region).send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: args.prefix,
          Delimiter: args.delimiter,
          MaxKeys: Math.min(first, MAX_KEYS),
          ContinuationToken: args.after ?? undefined,
        }),
        { abortSignal: ctx.signal },
      );
      const token = output.IsTruncated ? (output.NextContinuationToken ?? null) : null;
      return {
        items: (output.Contents ?? []).flatMap((o) =>
          o.Key === undefined
            ? []
            : [
                {
                  key: o.Key,
                  size: o.Size ?? 0,
                  lastModified: o.LastModified ?? null,
                  storageClass: o.StorageClass ?? null,
                  etag: unquote(o.ETag),
                },
              ],
        ),
        commonPrefixes: (output.CommonPrefixes ?? []).flatMap((p) =>
          p.Prefix === undefined ? [] : [p.Prefix],
        ),
        endCursor: token,
        hasNextPage: token !== null,
      };
    } catch (error) {
      throw toS3Error(error, context);
    }
  });
}
