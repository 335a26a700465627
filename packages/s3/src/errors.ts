import { awsErrorCode, awsRequestId, CredentialsError, isRecoverableError } from '@rolegraph/credentials';

/**
 * Stable error codes of the service adapters (the same strings in `@rolegraph/s3` and
 * `@rolegraph/s3`). Switch on `error.code`, never on messages.
 *
 * @example
 * if (error instanceof S3Error && error.code === AdapterErrorCode.AWS_THROTTLED) backOff();
 */
export const AdapterErrorCode = {
  /** AWS asked us to slow down (Throttling, RequestLimitExceeded, SlowDown, ...). */
  AWS_THROTTLED: 'AWS_THROTTLED',
  /** 5xx, network failure, timeout or a service that is switched off. */
  AWS_UNAVAILABLE: 'AWS_UNAVAILABLE',
  /** The role may not do this (AccessDenied, UnauthorizedOperation, ...). */
  AWS_ACCESS_DENIED: 'AWS_ACCESS_DENIED',
  /** AWS rejected the credentials as expired even after the session renewed them once. */
  AWS_CREDENTIALS_EXPIRED: 'AWS_CREDENTIALS_EXPIRED',
  /** The thing asked for does not exist (NoSuchBucket, InvalidVpcID.NotFound, ...). */
  AWS_NOT_FOUND: 'AWS_NOT_FOUND',
  /** A 4xx validation failure: the request itself is wrong. */
  AWS_INVALID_REQUEST: 'AWS_INVALID_REQUEST',
  /** The session could not get credentials; `cause` is the `CredentialsError`. */
  CREDENTIALS_UNAVAILABLE: 'CREDENTIALS_UNAVAILABLE',
  /** The caller's `AbortSignal` fired. */
  ABORTED: 'ABORTED',
  /** Any other AWS failure. */
  AWS_ERROR: 'AWS_ERROR',
} as const;

export type AdapterErrorCode = (typeof AdapterErrorCode)[keyof typeof AdapterErrorCode];

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

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
]);
const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthFailure',
  'AllAccessDisabled',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
]);
const EXPIRED_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const NOT_FOUND_CODES = new Set(['NotFound', 'NoSuchBucket', 'NoSuchKey']);
const INVALID_CODES = new Set([
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidParameter',
  'MissingParameter',
  'ValidationError',
  'ValidationException',
  'InvalidRequest',
  'InvalidArgument',
  'InvalidBucketName',
  'InvalidToken',
  'InvalidNextToken',
  'InvalidPaginationToken',
  'InvalidFilter',
  'UnknownParameter',
  'MalformedXML',
]);
const UNAVAILABLE_CODES = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface Classified {
  code: AdapterErrorCode;
  retryable: boolean;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function isCredentialsError(error: unknown): error is CredentialsError {
  return (
    error instanceof CredentialsError ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'CredentialsError')
  );
}

/** Table first, then HTTP status; messages are never parsed. The same table as `@rolegraph/ec2`. */
export function classifyAwsError(error: unknown, signal?: AbortSignal): Classified {
  if (signal?.aborted) return { code: AdapterErrorCode.ABORTED, retryable: false };
  if (isCredentialsError(error)) {
    return { code: AdapterErrorCode.CREDENTIALS_UNAVAILABLE, retryable: error.retryable };
  }
  const awsCode = awsErrorCode(error);
  if (awsCode === 'AbortError') return { code: AdapterErrorCode.ABORTED, retryable: false };
  if (awsCode !== undefined) {
    if (THROTTLING_CODES.has(awsCode)) return { code: AdapterErrorCode.AWS_THROTTLED, retryable: true };
    if (EXPIRED_CODES.has(awsCode))
      return { code: AdapterErrorCode.AWS_CREDENTIALS_EXPIRED, retryable: true };
    if (ACCESS_DENIED_CODES.has(awsCode))
      return { code: AdapterErrorCode.AWS_ACCESS_DENIED, retryable: false };
    if (NOT_FOUND_CODES.has(awsCode) || awsCode.endsWith('.NotFound')) {
      return { code: AdapterErrorCode.AWS_NOT_FOUND, retryable: false };
    }
    if (INVALID_CODES.has(awsCode) || awsCode.endsWith('.Malformed')) {
      return { code: AdapterErrorCode.AWS_INVALID_REQUEST, retryable: false };
    }
    if (UNAVAILABLE_CODES.has(awsCode)) return { code: AdapterErrorCode.AWS_UNAVAILABLE, retryable: true };
  }
  const status = httpStatus(error);
  if (status !== undefined) {
    if (status === 429) return { code: AdapterErrorCode.AWS_THROTTLED, retryable: true };
    if (status >= 500) return { code: AdapterErrorCode.AWS_UNAVAILABLE, retryable: true };
    if (status === 403) return { code: AdapterErrorCode.AWS_ACCESS_DENIED, retryable: false };
    if (status === 404) return { code: AdapterErrorCode.AWS_NOT_FOUND, retryable: false };
    if (status === 400) return { code: AdapterErrorCode.AWS_INVALID_REQUEST, retryable: false };
  }
  return { code: AdapterErrorCode.AWS_ERROR, retryable: isRecoverableError(error) };
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
  const { code, retryable } = classifyAwsError(error, context.signal);
  const fromCredentials = isCredentialsError(error);
  const awsCode =
    code === AdapterErrorCode.ABORTED ? undefined : fromCredentials ? error.awsCode : awsErrorCode(error);
  const requestId = fromCredentials ? error.requestId : awsRequestId(error);
  const detail = code === AdapterErrorCode.ABORTED ? 'aborted' : (awsCode ?? code);
  const about = context.bucket === undefined ? '' : ` for bucket ${context.bucket}`;
  return new S3Error(
    `${context.operation}${about} failed in account ${context.accountId}, region ${context.region}: ${detail}`,
    {
      bucket: context.bucket,
      code,
      retryable,
      accountId: context.accountId,
      region: context.region,
      awsCode,
      requestId,
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
