import type { Session } from '@rolegraph/credentials';
import type {
  AwsCallBudget,
  AwsCallContext,
  AwsRateLimiter,
  RequestAnswerCache,
} from '@rolegraph/credentials/aws';
import type { LimitFunction } from 'p-limit';
import { S3Error } from './errors.js';

/** What every loader of one `createS3Loaders` call shares. */
export interface LoaderContext {
  session: Session;
  signal?: AbortSignal | undefined;
  /** The request's AWS-call budget, taken by every call. */
  budget?: AwsCallBudget | undefined;
  /** The request's view of the process-wide AWS-answer cache. */
  cache?: RequestAnswerCache | undefined;
  /** The process-wide rate limiter every call (and retry) waits on. */
  limits?: AwsRateLimiter | undefined;
  /** Caps how many per-bucket calls of this request are in flight at once. */
  limit: LimitFunction;
  /** Where account-level calls (ListBuckets) and region lookups are sent. */
  defaultRegion: string;
}

/** S3 refuses a continuation token it did not make with `InvalidArgument`. */
export const CURSOR = { argument: 'after', refusedCodes: new Set(['InvalidArgument']) };

/** The `callAws` context of this request's S3 calls in `region`, about `bucket` if given. */
export function callContext(
  ctx: LoaderContext,
  region: string,
  bucket?: string,
  extra: Partial<AwsCallContext> = {},
): AwsCallContext {
  return {
    session: ctx.session,
    service: 's3',
    region,
    signal: ctx.signal,
    budget: ctx.budget,
    cache: ctx.cache,
    limits: ctx.limits,
    about: bucket === undefined ? undefined : `for bucket ${bucket}`,
    toError: (message, options) => new S3Error(message, { ...options, bucket }),
    ...extra,
  };
}
