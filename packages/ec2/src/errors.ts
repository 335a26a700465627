import { AdapterErrorCode, describeAwsFailure } from '@rolegraph/credentials';

/** The codes live in `@rolegraph/credentials`, shared by every adapter; re-exported here for importers. */
export { AdapterErrorCode };

export interface Ec2ErrorOptions {
  code: AdapterErrorCode;
  accountId: string;
  region: string;
  retryable: boolean;
  awsCode?: string | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

/**
 * The one runtime error class of `@rolegraph/ec2`: every AWS failure is turned into one,
 * carrying where it happened and whether trying again may help.
 *
 * @example
 * try { await loaders.instance.load({ region: 'us-east-1', id }); } catch (e) {
 *   if (e instanceof Ec2Error && e.retryable) scheduleRetry(e.accountId, e.region);
 * }
 */
export class Ec2Error extends Error {
  override readonly name = 'Ec2Error';
  readonly code: AdapterErrorCode;
  readonly accountId: string;
  readonly region: string;
  /** The AWS error code (`UnauthorizedOperation`, `RequestLimitExceeded`, ...), if AWS answered. */
  readonly awsCode: string | undefined;
  readonly requestId: string | undefined;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;

  constructor(message: string, options: Ec2ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.accountId = options.accountId;
    this.region = options.region;
    this.awsCode = options.awsCode;
    this.requestId = options.requestId;
    this.retryable = options.retryable;
  }
}

/** The context an AWS call was made in, stamped onto the typed error. */
export interface ErrorContext {
  accountId: string;
  region: string;
  operation: string;
  signal?: AbortSignal | undefined;
}

/** Wrap anything a call threw in an `Ec2Error` (an `Ec2Error` passes through unchanged). */
export function toEc2Error(error: unknown, context: ErrorContext): Ec2Error {
  if (error instanceof Ec2Error) return error;
  const { detail, ...failure } = describeAwsFailure(error, context.signal);
  return new Ec2Error(
    `${context.operation} failed in account ${context.accountId}, region ${context.region}: ${detail}`,
    {
      ...failure,
      accountId: context.accountId,
      region: context.region,
      cause: error,
    },
  );
}

/** The error a call gets when its signal already fired: no request is sent. */
export function abortedError(context: ErrorContext): Ec2Error {
  return new Ec2Error(
    `${context.operation} aborted in account ${context.accountId}, region ${context.region}`,
    {
      code: AdapterErrorCode.ABORTED,
      retryable: false,
      accountId: context.accountId,
      region: context.region,
      cause: context.signal?.reason,
    },
  );
}
