import type { Session } from '@rolegraph/credentials';
import {
  type AwsCallBudget,
  type AwsRateLimiter,
  canonicalJson,
  type RequestAnswerCache,
} from '@rolegraph/credentials/aws';
import type DataLoader from 'dataloader';
import type { LoaderContext } from './context.js';
import { type ListInstancesArgs, listInstances } from './list-instances.js';
import { createRegionalLoaders, MAX_IDS_PER_CALL } from './regional-loaders.js';
import type { Instance, Page, RegionalId, SecurityGroup, Volume } from './types.js';

export interface Ec2LoadersOptions {
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
   * The process-wide rate limiter (`createAwsRateLimiter`): every call, SDK retries included,
   * waits for a token of its EC2 bucket (per account, region and action, with the smaller
   * bucket of unfiltered Describe calls) instead of being sent to be throttled; the wait ends
   * with `ABORTED` when `signal` fires. Chunks of a large id lookup go out as their bucket
   * allows. @default no limit
   */
  limits?: AwsRateLimiter;
  /**
   * Most ids in one Describe call (1..1000); a batch with more is split into several calls.
   * @default 1000
   */
  maxBatchSize?: number;
}

/** The EC2 loaders of one request. Build a new set per request: they cache what they load. */
export interface Ec2Loaders {
  instance: DataLoader<RegionalId, Instance | null, string>;
  securityGroup: DataLoader<RegionalId, SecurityGroup | null, string>;
  volume: DataLoader<RegionalId, Volume | null, string>;
  /**
   * One page of a region's instances; primes `instance` with every instance listed. The same
   * arguments twice in one set of loaders cost one listing (like a DataLoader key).
   */
  listInstances(args: ListInstancesArgs): Promise<Page<Instance>>;
}

/**
 * The per-request EC2 loaders of one session: every lookup made in the same tick is batched
 * into one Describe call per region and resource type.
 *
 * @example
 * const ec2 = createEc2Loaders({ session, signal: request.signal });
 * const instance = await ec2.instance.load({ region: 'us-east-1', id: 'i-0123456789abcdef0' });
 * const groups = await ec2.securityGroup.loadMany(
 *   (instance?.securityGroupIds ?? []).map((id) => ({ region: 'us-east-1', id })),
 * );
 */
export function createEc2Loaders(options: Ec2LoadersOptions): Ec2Loaders {
  const { session, signal, budget, cache, limits } = options;
  if (typeof session !== 'object' || session === null || typeof session.client !== 'function') {
    throw new TypeError(`createEc2Loaders: session must be a Session, got ${String(session)}`);
  }
  const maxBatchSize = options.maxBatchSize ?? MAX_IDS_PER_CALL;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_IDS_PER_CALL) {
    throw new TypeError(
      `createEc2Loaders: maxBatchSize must be an integer in 1..${MAX_IDS_PER_CALL}, got ${String(options.maxBatchSize)}`,
    );
  }
  const ctx: LoaderContext = { session, signal, budget, cache, limits, maxBatchSize };
  const loaders = createRegionalLoaders(ctx);
  // Per request, like the DataLoaders: one listing per distinct arguments, however often asked.
  const listings = new Map<string, Promise<Page<Instance>>>();
  return {
    ...loaders,
    listInstances(args) {
      const key = canonicalJson(args);
      let listing = listings.get(key);
      if (!listing) {
        listing = listInstances(ctx, loaders.instance, args);
        listings.set(key, listing);
      }
      return listing;
    },
  };
}
