import { CredentialsError, CredentialsErrorCode } from '../errors.js';
import { AwsCallError } from './aws-call-error.js';

/**
 * Stable codes of every failed AWS call of the rolegraph adapters (`@rolegraph/ec2`,
 * `@rolegraph/s3`, ...): the `kind` of the AWS error table and the `code` of `AwsCallError`.
 * Switch on `error.code`, never on messages.
 *
 * @example
 * if (error instanceof AwsCallError && error.code === AdapterErrorCode.AWS_THROTTLED) backOff();
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
  /**
   * The session could not get credentials, so nothing was sent; `cause` is the
   * `CredentialsError` and `credentialsCode` its code.
   */
  CREDENTIALS_UNAVAILABLE: 'CREDENTIALS_UNAVAILABLE',
  /**
   * The credentials that assume the account's role could not be loaded at all (the default
   * chain found none, an SSO token expired, a profile is missing): nothing was sent, and
   * nothing changes until someone provides credentials. Not retryable.
   */
  SOURCE_CREDENTIALS_UNAVAILABLE: 'SOURCE_CREDENTIALS_UNAVAILABLE',
  /** The caller's `AbortSignal` fired. */
  ABORTED: 'ABORTED',
  /** The request's `AwsCallBudget` was spent, so this call was not sent. Not retryable as it is. */
  AWS_CALL_BUDGET_EXCEEDED: 'AWS_CALL_BUDGET_EXCEEDED',
  /** A caller's argument is not one the adapter can use (a cursor it did not make); nothing was sent. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** Any other AWS failure. */
  AWS_ERROR: 'AWS_ERROR',
} as const;

export type AdapterErrorCode = (typeof AdapterErrorCode)[keyof typeof AdapterErrorCode];

/** What an AWS error code means: its kind and whether trying again later may succeed. */
export interface AwsErrorKind {
  /** `AWS_ERROR`: no kind of its own; the HTTP status decides. */
  kind: AdapterErrorCode;
  retryable: boolean;
}

const THROTTLED: AwsErrorKind = { kind: AdapterErrorCode.AWS_THROTTLED, retryable: true };
const UNAVAILABLE: AwsErrorKind = { kind: AdapterErrorCode.AWS_UNAVAILABLE, retryable: true };
const DENIED: AwsErrorKind = { kind: AdapterErrorCode.AWS_ACCESS_DENIED, retryable: false };
// The session renews expired credentials, so later may work.
const EXPIRED: AwsErrorKind = { kind: AdapterErrorCode.AWS_CREDENTIALS_EXPIRED, retryable: true };
const NOT_FOUND: AwsErrorKind = { kind: AdapterErrorCode.AWS_NOT_FOUND, retryable: false };
const INVALID: AwsErrorKind = { kind: AdapterErrorCode.AWS_INVALID_REQUEST, retryable: false };
const OTHER_TRANSIENT: AwsErrorKind = { kind: AdapterErrorCode.AWS_ERROR, retryable: true };
const OTHER_PERMANENT: AwsErrorKind = { kind: AdapterErrorCode.AWS_ERROR, retryable: false };

/**
 * The one table of AWS error codes: every code rolegraph knows, its kind and whether it is
 * worth retrying. Codes not listed fall back to the HTTP status; messages are never parsed.
 */
export const AWS_ERROR_TABLE: ReadonlyMap<string, AwsErrorKind> = new Map<string, AwsErrorKind>([
  ['Throttling', THROTTLED],
  ['ThrottlingException', THROTTLED],
  ['ThrottledException', THROTTLED],
  ['RequestThrottled', THROTTLED],
  ['RequestThrottledException', THROTTLED],
  ['RequestLimitExceeded', THROTTLED],
  ['TooManyRequestsException', THROTTLED],
  ['SlowDown', THROTTLED],
  ['EC2ThrottledException', THROTTLED],
  ['BandwidthLimitExceeded', THROTTLED],
  ['PriorRequestNotComplete', THROTTLED],
  ['ProvisionedThroughputExceededException', OTHER_TRANSIENT],
  ['TransactionInProgressException', OTHER_TRANSIENT],
  ['IDPCommunicationError', OTHER_TRANSIENT],

  ['ServiceUnavailable', UNAVAILABLE],
  ['ServiceUnavailableException', UNAVAILABLE],
  ['Unavailable', UNAVAILABLE],
  ['InternalError', UNAVAILABLE],
  ['InternalFailure', UNAVAILABLE],
  ['InternalServerError', UNAVAILABLE],
  ['InternalServiceError', UNAVAILABLE],
  ['RequestTimeout', UNAVAILABLE],
  ['RequestTimeoutException', UNAVAILABLE],
  ['TimeoutError', UNAVAILABLE],
  // Node network errors: transient by nature.
  ['ECONNREFUSED', UNAVAILABLE],
  ['ECONNRESET', UNAVAILABLE],
  ['ECONNABORTED', UNAVAILABLE],
  ['EPIPE', UNAVAILABLE],
  ['ETIMEDOUT', UNAVAILABLE],
  ['ENOTFOUND', UNAVAILABLE],
  ['EAI_AGAIN', UNAVAILABLE],
  ['EHOSTUNREACH', UNAVAILABLE],
  ['ENETUNREACH', UNAVAILABLE],
  ['ENETDOWN', UNAVAILABLE],
  ['UND_ERR_SOCKET', UNAVAILABLE],
  ['UND_ERR_CONNECT_TIMEOUT', UNAVAILABLE],
  // A call the caller aborted may work when tried again; the aborted call itself reports ABORTED.
  ['AbortError', { kind: AdapterErrorCode.ABORTED, retryable: true }],

  ['ExpiredToken', EXPIRED],
  ['ExpiredTokenException', EXPIRED],
  ['RequestExpired', EXPIRED],

  ['AccessDenied', DENIED],
  ['AccessDeniedException', DENIED],
  ['UnauthorizedOperation', DENIED],
  ['AuthFailure', DENIED],
  ['AllAccessDisabled', DENIED],
  ['InvalidClientTokenId', DENIED],
  ['SignatureDoesNotMatch', DENIED],
  ['OptInRequired', DENIED],
  ['IncompleteSignature', OTHER_PERMANENT],
  ['InvalidIdentityToken', OTHER_PERMANENT],
  ['IDPRejectedClaim', OTHER_PERMANENT],
  ['UnrecognizedClientException', OTHER_PERMANENT],
  ['RegionDisabledException', OTHER_PERMANENT],
  ['MalformedPolicyDocument', OTHER_PERMANENT],
  ['MalformedPolicyDocumentException', OTHER_PERMANENT],
  ['PackedPolicyTooLarge', OTHER_PERMANENT],
  ['PackedPolicyTooLargeException', OTHER_PERMANENT],
  ['InvalidAction', OTHER_PERMANENT],

  ['NotFound', NOT_FOUND],
  ['NoSuchBucket', NOT_FOUND],
  ['NoSuchKey', NOT_FOUND],

  ['InvalidParameterValue', INVALID],
  ['InvalidParameterCombination', INVALID],
  ['InvalidParameter', INVALID],
  ['MissingParameter', INVALID],
  ['ValidationError', INVALID],
  ['ValidationException', INVALID],
  ['InvalidRequest', INVALID],
  ['InvalidArgument', INVALID],
  ['InvalidBucketName', INVALID],
  ['InvalidToken', INVALID],
  ['InvalidNextToken', INVALID],
  ['InvalidPaginationToken', INVALID],
  ['InvalidFilter', INVALID],
  ['UnknownParameter', INVALID],
  ['MalformedXML', INVALID],
]);

/** EC2's per-resource codes (`InvalidVpcID.NotFound`, `InvalidInstanceID.Malformed`) by suffix. */
function lookUp(awsCode: string): AwsErrorKind | undefined {
  const listed = AWS_ERROR_TABLE.get(awsCode);
  if (listed) return listed;
  if (awsCode.endsWith('.NotFound')) return NOT_FOUND;
  if (awsCode.endsWith('.Malformed')) return INVALID;
  return undefined;
}

/** The codes of a request whose pagination token AWS refused: the caller's cursor is bad. */
export const PAGINATION_TOKEN_CODES: ReadonlySet<string> = new Set([
  'InvalidNextToken',
  'InvalidPaginationToken',
  'InvalidToken',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  retryable?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
}

function asErrorLike(error: unknown): ErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrorLike) : undefined;
}

/**
 * The AWS error code an SDK error carries (`AccessDenied`, `Throttling`, ...).
 *
 * @example
 * awsErrorCode(await client.send(command).catch((e) => e)); // 'RequestLimitExceeded'
 */
export function awsErrorCode(error: unknown): string | undefined {
  const e = asErrorLike(error);
  if (!e) return undefined;
  // An AwsCallError's `code` is ours; the AWS code it wrapped is `awsCode`.
  if (error instanceof AwsCallError) return error.awsCode;
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.name === 'string' && e.name !== 'Error' && e.$metadata !== undefined) return e.name;
  if (typeof e.code === 'string') return e.code;
  return typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined;
}

/** The AWS request id of an SDK error, if it has one. */
export function awsRequestId(error: unknown): string | undefined {
  const id = asErrorLike(error)?.$metadata?.requestId;
  return typeof id === 'string' ? id : undefined;
}

function httpStatus(error: unknown): number | undefined {
  const status = asErrorLike(error)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether a failure is worth retrying after a backoff (used by the credential sources).
 * An explicit boolean `retryable` on the error wins (our own errors carry one); then the AWS
 * code table; then the HTTP status (5xx and 429 recoverable, other 4xx not). Anything else,
 * e.g. a plain `Error` with no status, counts as recoverable, because an unknown failure is
 * far more often transient than a permanent refusal.
 *
 * @example
 * isRecoverableError(Object.assign(new Error('slow down'), { name: 'Throttling' })); // true
 */
export function isRecoverableError(error: unknown): boolean {
  const e = asErrorLike(error);
  if (!e) return true;
  if (typeof e.retryable === 'boolean') return e.retryable;
  const code = awsErrorCode(error);
  const listed = code === undefined ? undefined : AWS_ERROR_TABLE.get(code);
  if (listed) return listed.retryable;
  if (e.$retryable !== undefined) return true;
  const status = httpStatus(error);
  if (status !== undefined) return status >= 500 || status === 429;
  if (e.$fault === 'client') return false;
  return true;
}

/** Whether a service rejected a request because its credentials expired or were revoked. */
export function isExpiredCredentialsError(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && AWS_ERROR_TABLE.get(code) === EXPIRED;
}

/**
 * Whether AWS answered "slow down": a throttling code of the table, or HTTP 429. What a rate
 * limit drains its bucket on.
 *
 * @example
 * isThrottlingError(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: {} })); // true
 */
export function isThrottlingError(error: unknown): boolean {
  const code = awsErrorCode(error);
  if (code !== undefined && lookUp(code)?.kind === AdapterErrorCode.AWS_THROTTLED) return true;
  return httpStatus(error) === 429;
}

/** A `CredentialsError` of this package (by name too, for one bundled elsewhere). */
export function isCredentialsError(error: unknown): error is CredentialsError {
  return (
    error instanceof CredentialsError ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'CredentialsError')
  );
}

export interface ClassifiedAwsError {
  code: AdapterErrorCode;
  retryable: boolean;
}

/**
 * What kind of failure an AWS call's error is: the AWS code table first, then the HTTP
 * status; messages are never parsed. A `CredentialsError` (the session could not get
 * credentials) keeps its own `retryable`.
 *
 * @example
 * classifyAwsError(error, signal); // { code: 'AWS_THROTTLED', retryable: true }
 */
export function classifyAwsError(error: unknown, signal?: AbortSignal): ClassifiedAwsError {
  if (signal?.aborted) return { code: AdapterErrorCode.ABORTED, retryable: false };
  if (isCredentialsError(error)) {
    const code =
      error.code === CredentialsErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE
        ? AdapterErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE
        : AdapterErrorCode.CREDENTIALS_UNAVAILABLE;
    return { code, retryable: error.retryable };
  }
  const awsCode = awsErrorCode(error);
  const listed = awsCode === undefined ? undefined : lookUp(awsCode);
  if (listed?.kind === AdapterErrorCode.ABORTED) return { code: AdapterErrorCode.ABORTED, retryable: false };
  if (listed && listed.kind !== AdapterErrorCode.AWS_ERROR) {
    return { code: listed.kind, retryable: listed.retryable };
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
