import { checkTokenBucketSpec, type TokenBucketSpec } from './token-bucket.js';

/**
 * The buckets AWS meters calls with, one spec per class; `false` leaves a class unmetered.
 * Figures are AWS's published defaults (see {@link AWS_RATE_LIMITS}); an account whose limits
 * AWS raised can say so here.
 */
export interface AwsRateLimits {
  /**
   * EC2, per account and region, each API action its own bucket ("Request throttling for the
   * Amazon EC2 API": "each API is evaluated individually").
   */
  ec2: {
    /** `Describe*`, `List*`, `Search*`, `Get*`: 100 burst, 20 per second. */
    nonMutating: TokenBucketSpec | false;
    /**
     * `DescribeInstances`, `DescribeInstanceStatus`, `DescribeNetworkInterfaces`,
     * `DescribeSecurityGroups`, `DescribeSnapshots`, `DescribeSpotInstanceRequests` and
     * `DescribeVolumes` sent without a filter, an id list or pagination draw from a smaller
     * bucket of their own: 50 burst, 10 per second.
     */
    unfilteredUnpaginated: TokenBucketSpec | false;
    /** Every other action (they create, modify or delete): 50 burst, 5 per second. */
    mutating: TokenBucketSpec | false;
  };
  /**
   * STS, per calling principal and STS region: AWS allows 600 requests per second per account
   * and region across AssumeRole, GetCallerIdentity and the other credential operations, and
   * the limit cannot be raised. AssumeRole is metered per source principal (the identity that
   * calls it, which owns the quota), other calls per account of their credentials.
   */
  sts: TokenBucketSpec | false;
  /** AWS Organizations, per calling account (a global service: no region in the key). */
  organizations: TokenBucketSpec | false;
  /**
   * S3, per account, region and operation. AWS allows 3,500 writes and 5,500 reads per second
   * per partitioned prefix of a bucket, far above what rolegraph sends, so S3 is not metered
   * unless this is set.
   */
  s3: TokenBucketSpec | false;
}

/** Overrides of some classes of {@link AwsRateLimits}; the others keep their defaults. */
export interface AwsRateLimitsInput {
  ec2?: Partial<AwsRateLimits['ec2']>;
  sts?: TokenBucketSpec | false;
  organizations?: TokenBucketSpec | false;
  s3?: TokenBucketSpec | false;
}

/**
 * AWS's published defaults. EC2: "Request throttling for the Amazon EC2 API" (request token
 * bucket sizes and refill rates). STS: "IAM and AWS STS quotas" (600 requests per second per
 * account per Region, not adjustable), as a bucket of one second's worth. Organizations
 * documents per-API throttling without a single figure for every list operation; 20 burst and
 * 10 per second per account is a conservative choice. S3: not metered (see `s3`).
 *
 * @example
 * createAwsRateLimiter({ limits: { ec2: { nonMutating: { burst: 200, refillPerSecond: 40 } } } });
 */
export const AWS_RATE_LIMITS: Readonly<AwsRateLimits> = Object.freeze({
  ec2: Object.freeze({
    nonMutating: Object.freeze({ burst: 100, refillPerSecond: 20 }),
    unfilteredUnpaginated: Object.freeze({ burst: 50, refillPerSecond: 10 }),
    mutating: Object.freeze({ burst: 50, refillPerSecond: 5 }),
  }),
  sts: Object.freeze({ burst: 600, refillPerSecond: 600 }),
  organizations: Object.freeze({ burst: 20, refillPerSecond: 10 }),
  s3: false,
});

const spec = (value: TokenBucketSpec | false, name: string): TokenBucketSpec | false =>
  value === false ? false : { ...checkTokenBucketSpec(value, name) };

/**
 * `overrides` over `base` (default: AWS's defaults), every spec checked: a bad one throws a
 * `TypeError` naming it.
 *
 * @example
 * resolveAwsRateLimits({ sts: { burst: 100, refillPerSecond: 20 } }).sts; // { burst: 100, refillPerSecond: 20 }
 */
export function resolveAwsRateLimits(
  overrides: AwsRateLimitsInput = {},
  base: AwsRateLimits = AWS_RATE_LIMITS,
): AwsRateLimits {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new TypeError(`rate limits must be an object, got ${JSON.stringify(overrides)}`);
  }
  const ec2 = { ...base.ec2, ...overrides.ec2 };
  return {
    ec2: {
      nonMutating: spec(ec2.nonMutating, 'ec2.nonMutating'),
      unfilteredUnpaginated: spec(ec2.unfilteredUnpaginated, 'ec2.unfilteredUnpaginated'),
      mutating: spec(ec2.mutating, 'ec2.mutating'),
    },
    sts: spec(overrides.sts ?? base.sts, 'sts'),
    organizations: spec(overrides.organizations ?? base.organizations, 'organizations'),
    s3: spec(overrides.s3 ?? base.s3, 's3'),
  };
}

/** One AWS call as a rate limit sees it. */
export interface RateLimitedCall {
  /** As the SDK client names it, lower case: `ec2`, `sts`, `organizations`, `s3`. */
  service: string;
  /** The account whose quota the call draws on: the account of the credentials that sign it. */
  accountId: string;
  region: string;
  operation: string;
  /** The input the command is built from: EC2's smaller class depends on it. */
  input: object;
  /**
   * STS only: the principal that calls (for AssumeRole, the source credentials or the hub
   * role); its bucket is shared by every role it assumes. @default accountId
   */
  principal?: string | undefined;
}

/** The bucket one call draws a token from. */
export interface RateLimitBucket {
  /** `ec2:111111111111:us-east-1:DescribeInstances`; never a secret. */
  key: string;
  spec: TokenBucketSpec;
  /** The class, for metrics and logs: `ec2.nonMutating`, `sts`, ... */
  bucketClass: string;
}

/**
 * The EC2 actions with a smaller bucket when sent unfiltered and unpaginated (AWS's list,
 * complete; rolegraph sends three of them).
 */
export const EC2_UNFILTERED_CLASS: ReadonlySet<string> = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

const NON_MUTATING = /^(Describe|List|Search|Get)/;

/**
 * Whether an EC2 input asks for everything at once: no `Filters`, no list of ids (or owners,
 * names...: any non-empty array narrows the answer like a filter does) and no `MaxResults` or
 * `NextToken`.
 */
export function isUnfilteredUnpaginated(input: object): boolean {
  const fields = input as Record<string, unknown>;
  if (fields.MaxResults !== undefined || fields.NextToken !== undefined) return false;
  for (const value of Object.values(fields)) if (Array.isArray(value) && value.length > 0) return false;
  return true;
}

/**
 * The bucket a call draws from under `limits`, or `undefined` when its class is not metered.
 *
 * @example
 * classifyAwsCall(
 *   { service: 'ec2', accountId: '111111111111', region: 'us-east-1', operation: 'DescribeInstances', input: {} },
 *   AWS_RATE_LIMITS,
 * ); // { key: 'ec2:111111111111:us-east-1:DescribeInstances:unfiltered', spec: { burst: 50, refillPerSecond: 10 }, ... }
 */
export function classifyAwsCall(call: RateLimitedCall, limits: AwsRateLimits): RateLimitBucket | undefined {
  const { service, accountId, region, operation } = call;
  switch (service) {
    case 'ec2': {
      if (!NON_MUTATING.test(operation)) {
        const s = limits.ec2.mutating;
        return s
          ? { key: `ec2:${accountId}:${region}:${operation}`, spec: s, bucketClass: 'ec2.mutating' }
          : undefined;
      }
      if (EC2_UNFILTERED_CLASS.has(operation) && isUnfilteredUnpaginated(call.input)) {
        const s = limits.ec2.unfilteredUnpaginated;
        return s
          ? {
              key: `ec2:${accountId}:${region}:${operation}:unfiltered`,
              spec: s,
              bucketClass: 'ec2.unfilteredUnpaginated',
            }
          : undefined;
      }
      const s = limits.ec2.nonMutating;
      return s
        ? { key: `ec2:${accountId}:${region}:${operation}`, spec: s, bucketClass: 'ec2.nonMutating' }
        : undefined;
    }
    case 'sts': {
      const s = limits.sts;
      return s
        ? { key: `sts:${call.principal ?? accountId}:${region}`, spec: s, bucketClass: 'sts' }
        : undefined;
    }
    case 'organizations': {
      const s = limits.organizations;
      return s ? { key: `organizations:${accountId}`, spec: s, bucketClass: 'organizations' } : undefined;
    }
    case 's3': {
      const s = limits.s3;
      return s ? { key: `s3:${accountId}:${region}:${operation}`, spec: s, bucketClass: 's3' } : undefined;
    }
    default:
      return undefined;
  }
}
