import { AdapterErrorCode, describeAwsFailure } from '@rolegraph/credentials';

/** The codes live in `@rolegraph/credentials`, shared by every adapter; re-exported here for importers. */
export { AdapterErrorCode };

export interface S3ErrorOptions {
  code: AdapterErrorCode;
  accountId: string;
  region: string;
  retryable: boolean;
  awsCode?: string | undefined;
  requestId?: string | undefined;
  bucket?: string | undefined;
  cause?: unknown;
}

/**
 * The one runtime error class of `@rolegraph/s3`: every AWS failure is turned into one,
 * carrying where it happened (and for which bucket) and whether trying again may help.
 *
 * @example
 * try { await loaders.tags.load('my-bucket'); } catch (e) {
 *   if (e instanceof S3Error && e.code === 'AWS_ACCESS_DENIED') report(e.accountId, e.bucket);
 * }
 */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly code: AdapterErrorCode;
  readonly accountId: string;
  readonly region: string;
  /** The AWS error code (`UnauthorizedOperation`, `RequestLimitExceeded`, ...), if AWS answered. */
  readonly awsCode: string | undefined;
  readonly requestId: string | undefined;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  /** The bucket the failed call was about, if it was about one. */
  readonly bucket: string | undefined;

  constructor(message: string, options: S3ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.accountId = options.accountId;
    this.region = options.region;
    this.awsCode = options.awsCode;
    this.requestId = options.requestId;
    this.retryable = options.retryable;
    this.bucket = options.bucket;
  }
}

/** The context an AWS call was made in, stamped onto the typed error. */
export interface ErrorContext {
  accountId: string;
  region: string;
  operation: string;
  bucket?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Wrap anything a call threw in an `S3Error` (an `S3Error` passes through unchanged). */
export function toS3Error(error: unknown, context: ErrorContext): S3Error {
  if (error instanceof S3Error) return error;
  const { detail, ...failure } = describeAwsFailure(error, context.signal);
  const about = context.bucket === undefined ? '' : ` for bucket ${context.bucket}`;
  return new S3Error(
    `${context.operation}${about} failed in account ${context.accountId}, region ${context.region}: ${detail}`,
    {
      bucket: context.bucket,
      ...failure,
      accountId: context.accountId,
      region: context.region,
      cause: error,
    },
  );
}

/** The error a call gets when its signal already fired: no request is sent. */
export function abortedError(context: ErrorContext): S3Error {
  return new S3Error(
    `${context.operation} aborted in account ${context.accountId}, region ${context.region}`,
    {
      bucket: context.bucket,
      code: AdapterErrorCode.ABORTED,
      retryable: false,
      accountId: context.accountId,
      region: context.region,
      cause: context.signal?.reason,
    },
  );
}
