import { GetBucketLocationCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode } from '@rolegraph/credentials';
import DataLoader from 'dataloader';
import type { S3Context } from './context.js';
import { abortedError, type ErrorContext, toS3Error } from './errors.js';

/**
 * GetBucketLocation's answer as a region name: empty means us-east-1 and the legacy `EU`
 * means eu-west-1.
 *
 * @example
 * normalizeLocation(undefined); // 'us-east-1'
 * normalizeLocation('EU'); // 'eu-west-1'
 */
export function normalizeLocation(constraint: string | undefined | null): string {
  if (!constraint) return 'us-east-1';
  if (constraint === 'EU') return 'eu-west-1';
  return constraint;
}

function regionHeader(error: unknown): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } } | null)
    ?.$response?.headers;
  const value = headers?.['x-amz-bucket-region'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

// HeadBucket refusals that still say where the bucket lives (or that GetBucketLocation may get past).
const FALL_BACK_STATUSES = new Set([301, 307, 400, 403]);

/**
 * The region of one bucket: HeadBucket (its `x-amz-bucket-region`, also present on a
 * redirect or refusal), then GetBucketLocation only if that header is missing.
 */
async function resolveRegion(ctx: S3Context, bucket: string): Promise<string> {
  const context: ErrorContext = {
    accountId: ctx.session.accountId,
    region: ctx.defaultRegion,
    operation: 'HeadBucket',
    bucket,
    signal: ctx.signal,
  };
  try {
    if (ctx.signal?.aborted) throw abortedError(context);
    const client = ctx.session.client(S3Client, ctx.defaultRegion);
    try {
      const head = await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
      if (head.BucketRegion) return head.BucketRegion;
    } catch (error) {
      const fromHeader = regionHeader(error);
      if (fromHeader) return fromHeader;
      const status = httpStatus(error);
      if (ctx.signal?.aborted || status === undefined || !FALL_BACK_STATUSES.has(status)) throw error;
      if (awsErrorCode(error) === 'NoSuchBucket') throw error;
    }
    context.operation = 'GetBucketLocation';
    if (ctx.signal?.aborted) throw abortedError(context);
    const location = await client.send(new GetBucketLocationCommand({ Bucket: bucket }), {
      abortSignal: ctx.signal,
    });
    return normalizeLocation(location.LocationConstraint);
  } catch (error) {
    throw toS3Error(error, context);
  }
}

/**
 * Bucket name → region. Listing buckets primes it for free; a bucket that was not listed costs
 * one HeadBucket (two calls only if S3 leaves out the region header), capped by the request's
 * concurrency limit.
 *
 * @example
 * const region = await createBucketRegionLoader(ctx).load('my-bucket'); // 'eu-west-1'
 */
export function createBucketRegionLoader(ctx: S3Context): DataLoader<string, string, string> {
  return new DataLoader<string, string, string>((buckets) =>
    Promise.all(
      buckets.map((bucket) =>
        ctx.limit(() => resolveRegion(ctx, bucket)).catch((error: unknown) => error as Error),
      ),
    ),
  );
}
