import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { callAws, cutPage, decodePageCursor } from '@rolegraph/credentials/aws';
import type DataLoader from 'dataloader';
import { CURSOR, callContext, type LoaderContext } from './context.js';
import type { ObjectPage, S3Object } from './types.js';

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
  /** The `endCursor` of the previous page, or any item's cursor (S3's ContinuationToken, or a place in its page). */
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
  ctx: LoaderContext,
  regionLoader: DataLoader<string, string, string>,
  args: ListObjectsArgs,
): Promise<ObjectPage> {
  const first = args.first ?? MAX_KEYS;
  if (!Number.isInteger(first) || first < 1) {
    throw new TypeError(`listObjects: first must be a positive integer, got ${String(args.first)}`);
  }
  const { bucket } = args;
  const region = await regionLoader.load(bucket);
  const position = decodePageCursor(args.after);
  const context = callContext(ctx, region, bucket, { cursor: args.after ? CURSOR : undefined });
  return ctx.limit(async () => {
    const input = {
      Bucket: bucket,
      Prefix: args.prefix,
      Delimiter: args.delimiter,
      MaxKeys: Math.min(position.skip + first, MAX_KEYS),
      ContinuationToken: position.token,
    };
    const output = await callAws(context, { operation: 'ListObjectsV2', input }, (signal) =>
      ctx.session.client(S3Client, region).send(new ListObjectsV2Command(input), { abortSignal: signal }),
    );
    const objects = (output.Contents ?? []).flatMap((o): S3Object[] =>
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
    );
    const token = output.IsTruncated ? output.NextContinuationToken : undefined;
    return {
      ...cutPage({ items: objects, position, first, nextToken: token }),
      commonPrefixes: (output.CommonPrefixes ?? []).flatMap((p) =>
        p.Prefix === undefined ? [] : [p.Prefix],
      ),
    };
  });
}
