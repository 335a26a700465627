import type { Session } from '@rolegraph/credentials';
import type {
  AwsCallBudget,
  AwsCallContext,
  AwsRateLimiter,
  RequestAnswerCache,
} from '@rolegraph/credentials/aws';
import { toEc2Error } from './errors.js';

/** What every loader of one `createEc2Loaders` call shares. */
export interface LoaderContext {
  session: Session;
  signal?: AbortSignal | undefined;
  /** The request's AWS-call budget, taken by every call. */
  budget?: AwsCallBudget | undefined;
  /** The request's view of the process-wide AWS-answer cache. */
  cache?: RequestAnswerCache | undefined;
  /** The process-wide rate limiter every call (and retry) waits on. */
  limits?: AwsRateLimiter | undefined;
  /** Ids per Describe call; more are split into several calls in the same batch. */
  maxBatchSize: number;
}

/** The `callAws` context of this request's EC2 calls in `region`. */
export function callContext(
  ctx: Pick<LoaderContext, 'session' | 'signal' | 'budget' | 'cache' | 'limits'>,
  region: string,
  extra: Partial<AwsCallContext> = {},
): AwsCallContext {
  return {
    session: ctx.session,
    service: 'ec2',
    region,
    signal: ctx.signal,
    budget: ctx.budget,
    cache: ctx.cache,
    limits: ctx.limits,
    toError: toEc2Error,
    ...extra,
  };
}
