import type { AdapterErrorCode } from './error-table.js';

/** Where an AWS call was made and what it was: stamped onto every `AwsCallError`. */
export interface AwsCallSite {
  /** The service as its SDK client names it, lower case: `ec2`, `s3`, `sts`. */
  service: string;
  /** The API operation, e.g. `DescribeInstances`. */
  operation: string;
  accountId: string;
  region: string;
}

export interface AwsCallErrorOptions extends AwsCallSite {
  code: AdapterErrorCode;
  retryable: boolean;
  /** The AWS error code (`UnauthorizedOperation`, `RequestLimitExceeded`, ...), if AWS answered. */
  awsCode?: string | undefined;
  requestId?: string | undefined;
  /** With `CREDENTIALS_UNAVAILABLE`: the `CredentialsError`'s code (`ASSUME_ROLE_REJECTED`, ...). */
  credentialsCode?: string | undefined;
  /** The caller's argument the failure is about (`after` for a cursor AWS or the adapter refused). */
  argument?: string | undefined;
  cause?: unknown;
}

/**
 * The one error of a failed AWS call, for every adapter: what was called where, the AWS code
 * and request id when AWS answered, and whether trying again may help. `Ec2Error` and
 * `S3Error` extend it, so `instanceof AwsCallError` catches both.
 *
 * @example
 * try { await loaders.instance.load({ region: 'us-east-1', id }); } catch (e) {
 *   if (e instanceof AwsCallError && e.retryable) scheduleRetry(e.accountId, e.region, e.operation);
 * }
 */
export class AwsCallError extends Error {
  override readonly name: string = 'AwsCallError';
  declare readonly code: AdapterErrorCode;
  declare readonly service: string;
  declare readonly operation: string;
  declare readonly accountId: string;
  declare readonly region: string;
  /** The AWS error code (`UnauthorizedOperation`, `RequestLimitExceeded`, ...), if AWS answered. */
  declare readonly awsCode: string | undefined;
  declare readonly requestId: string | undefined;
  /** Whether trying again later may succeed. */
  declare readonly retryable: boolean;
  /** With `CREDENTIALS_UNAVAILABLE`: the code of the `CredentialsError` behind it. */
  declare readonly credentialsCode: string | undefined;
  /** The caller's argument the failure is about, if one is to blame (`after`). */
  declare readonly argument: string | undefined;

  constructor(message: string, options: AwsCallErrorOptions) {
    const { cause, ...fields } = options;
    super(message, cause === undefined ? undefined : { cause });
    // Every field is there, `undefined` when not given, so errors compare and log alike.
    Object.assign(
      this,
      { awsCode: undefined, requestId: undefined, credentialsCode: undefined, argument: undefined },
      fields,
    );
  }
}
