import { awsErrorCode, awsRequestId, isRecoverableError, NETWORK_ERROR_CODES } from './aws-error-codes.js';
import { CredentialsError } from './errors.js';

/**
 * Stable error codes of the service adapters (shared by `@rolegraph/ec2` and
 * `@rolegraph/s3`, which re-export it). Switch on `error.code`, never on messages.
 *
 * @example
 * if (error instanceof Ec2Error && error.code === AdapterErrorCode.AWS_THROTTLED) backOff();
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
]);

export interface ClassifiedAwsError {
  code: AdapterErrorCode;
  retryable: boolean;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function isCredentialsError(error: unknown): error is CredentialsError {
  return (
    error instanceof CredentialsError ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'CredentialsError')
  );
}

/**
 * What kind of failure an AWS call's error is, for the service adapters: the AWS code table
 * first, then the HTTP status; messages are never parsed. A `CredentialsError` (the session
 * could not get credentials) keeps its own `retryable`.
 */
export function classifyAwsError(error: unknown, signal?: AbortSignal): ClassifiedAwsError {
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
    if (UNAVAILABLE_CODES.has(awsCode) || NETWORK_ERROR_CODES.has(awsCode))
      return { code: AdapterErrorCode.AWS_UNAVAILABLE, retryable: true };
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

/** Everything an adapter's typed error needs to know about a failed AWS call. */
export interface AwsFailure extends ClassifiedAwsError {
  /** The AWS error code, or the one a `CredentialsError` carried; none for an abort. */
  awsCode: string | undefined;
  requestId: string | undefined;
  /** A short, secret-free description for the message: the AWS code, the code, or `aborted`. */
  detail: string;
}

/**
 * Classify a failed AWS call and pick out its AWS code and request id, so each adapter only
 * wraps the result in its own error class.
 *
 * @example
 * const f = describeAwsFailure(error, signal);
 * throw new Ec2Error(`DescribeInstances failed: ${f.detail}`, { ...f, accountId, region, cause: error });
 */
export function describeAwsFailure(error: unknown, signal?: AbortSignal): AwsFailure {
  const { code, retryable } = classifyAwsError(error, signal);
  if (code === AdapterErrorCode.ABORTED) {
    return { code, retryable, awsCode: undefined, requestId: undefined, detail: 'aborted' };
  }
  const fromCredentials = isCredentialsError(error);
  const awsCode = fromCredentials ? error.awsCode : awsErrorCode(error);
  const requestId = fromCredentials ? error.requestId : awsRequestId(error);
  return { code, retryable, awsCode, requestId, detail: awsCode ?? code };
}
