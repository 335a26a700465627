import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { RetryStrategyV2 } from '@smithy/types';

export interface AwsRetryOptions {
  /** Attempts per AWS call, the first one included. @default 8 */
  maxAttempts?: number;
  /** The backoff ceiling doubles from this after every failure. @default 100 */
  baseDelayMs?: number;
  /** No single wait is longer than this. @default 2000 */
  maxDelayMs?: number;
  /** @default Math.random */
  random?: () => number;
}

/**
 * The retry policy of every EC2 and S3 client of the gateway: the SDK's standard strategy
 * (throttling, 5xx and network errors; a retry quota that stops retrying a service that keeps
 * failing) with more attempts and shorter, fully jittered waits than the SDK default of 3
 * attempts. One query fans out to dozens of calls: with 3 attempts, 30% throttling fails
 * 2.7% of calls and most fan-out queries; with 8, a call fails once in 15 000, and a call
 * that keeps failing gives up after at most ~9 s, well inside the query timeout.
 *
 * @example
 * new EC2Client({ region, credentials, retryStrategy: createAwsRetryStrategy() });
 */
export function createAwsRetryStrategy(options: AwsRetryOptions = {}): RetryStrategyV2 {
  const { maxAttempts = 8, baseDelayMs = 100, maxDelayMs = 2_000, random = Math.random } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(
      `createAwsRetryStrategy: maxAttempts must be a positive integer, got ${String(maxAttempts)}`,
    );
  }
  for (const [name, value] of [
    ['baseDelayMs', baseDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`createAwsRetryStrategy: ${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  return new ConfiguredRetryStrategy(maxAttempts, (retry) =>
    Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry)),
  );
}

/** Whether client settings already choose a retry policy (then the gateway's is not added). */
export function choosesRetry(clientDefaults: Record<string, unknown> | undefined): boolean {
  return (
    clientDefaults !== undefined &&
    ('maxAttempts' in clientDefaults || 'retryStrategy' in clientDefaults || 'retryMode' in clientDefaults)
  );
}
