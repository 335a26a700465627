import { GetBucketLocationCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode, callAws } from '@rolegraph/credentials/aws';
import DataLoader from 'dataloader';
import { callContext, type LoaderContext } from './context.js';

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
async function resolveRegion(ctx: LoaderContext, bucket: string): Promise<string> {
  const context = callContext(ctx, ctx.defaultRegion, bucket);
  const client = () => ctx.session.client(S3Client, ctx.defaultRegion);
  const input = { Bucket: bucket };
  const fromHead = await callAws(context, { operation: 'HeadBucket', input }, async (signal) => {
    try {
      const head = await client().send(new HeadBucketCommand(input), { abortSignal: signal });
      return head.BucketRegion;
    } catch (error) {
      const fromHeader = regionHeader(error);
      if (fromHeader) return fromHeader;
      const status = httpStatus(error);
      if (signal?.aborted || status === undefined || !FALL_BACK_STATUSES.has(status)) throw error;
      if (awsErrorCode(error) === 'NoSuchBucket') throw error;
      return undefined;
    }
  });
  if (fromHead) return fromHead;
  const location = await callAws(context, { operation: 'GetBucketLocation', input }, (signal) =>
    client().send(new GetBucketLocationCommand(input), { abortSignal: signal }),
  );
  return normalizeLocation(location.LocationConstraint);
}

/**
 * Bucket name → region. Listing buckets primes it for free; a bucket that was not listed costs
 * one HeadBucket (two calls only if S3 leaves out the region header), capped by the request's
 * concurrency limit.
 *
 * @example
 * const region = await createBucketRegionLoader(ctx).load('my-bucket'); // 'eu-west-1'
 */
export function createBucketRegionLoader(ctx: LoaderContext): DataLoader<string, string, string> {
  return new DataLoader<string, string, string>((buckets) =>
    Promise.all(
      buckets.map((bucket) =>
        ctx.limit(() => resolveRegion(ctx, bucket)).catch((error: unknown) => error as Error),
      ),
    ),
  );
}
