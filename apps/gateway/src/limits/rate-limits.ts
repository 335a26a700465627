import {
  AWS_RATE_LIMITS,
  type AwsRateLimiter,
  type AwsRateLimits,
  type BucketStore,
  createAwsRateLimiter,
} from '@rolegraph/credentials/aws';
import { DEFAULT_THROTTLING } from '@rolegraph/sandbox';
import type { GatewayConfig } from '../config/config-schema.js';
import type { LogFn } from '../observability/log.js';

/**
 * What the rolegraph sandbox enforces with `--throttling` (`DEFAULT_THROTTLING`): AWS's EC2
 * classes, STS 100 burst and 20 per second per calling account, S3 5,500 per second,
 * Organizations 20 and 10 per second per caller: the defaults of a gateway whose configuration
 * has `aws.sandbox`.
 *
 * @example
 * SANDBOX_RATE_LIMITS.sts; // { burst: 100, refillPerSecond: 20 }
 */
export const SANDBOX_RATE_LIMITS: Readonly<AwsRateLimits> = Object.freeze({
  ec2: {
    ...AWS_RATE_LIMITS.ec2,
    nonMutating: { ...DEFAULT_THROTTLING.ec2.nonMutating },
    unfilteredUnpaginated: { ...DEFAULT_THROTTLING.ec2.unfilteredUnpaginated },
  },
  sts: { ...DEFAULT_THROTTLING.sts },
  organizations: { ...DEFAULT_THROTTLING.organizations },
  s3: { ...DEFAULT_THROTTLING.s3 },
});

/**
 * The gateway's one AWS rate limiter: AWS's buckets (the sandbox's in sandbox mode) with the
 * overrides of `limits.aws`, in `store` (process memory unless a shared store is given).
 *
 * @example
 * const limiter = createGatewayRateLimiter(config, { log });
 */
export function createGatewayRateLimiter(
  config: Pick<GatewayConfig, 'limits' | 'aws'>,
  deps: { store?: BucketStore | undefined; log: LogFn; now: () => number },
): AwsRateLimiter {
  const { headroom, ...overrides } = config.limits.aws ?? {};
  return createAwsRateLimiter({
    base: config.aws.sandbox ? SANDBOX_RATE_LIMITS : AWS_RATE_LIMITS,
    limits: overrides,
    ...(headroom === undefined ? {} : { headroom }),
    ...(deps.store ? { store: deps.store } : {}),
    now: deps.now,
    onStoreError: (error) =>
      deps.log({
        level: 'warn',
        msg: 'rate limit store failed; the call went through unmetered',
        // The code only: a store's message may carry its connection string.
        code:
          (error as { code?: unknown } | undefined)?.code ?? (error instanceof Error ? error.name : 'Error'),
      }),
  });
}
