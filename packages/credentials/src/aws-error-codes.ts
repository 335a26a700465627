/**
 * How a failure from a credential source is classified. AWS error codes are looked up in
 * a table; messages are never parsed.
 */

/** Codes after which retrying later may succeed. */
const RECOVERABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceError',
  'RequestTimeout',
  'RequestTimeoutException',
  'IDPCommunicationError',
  'TimeoutError',
  'AbortError',
  // The source's own credentials expired: its refresher will renew them, so later may work.
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
]);

/** Codes that will not change by waiting: the request itself or its permissions are wrong. */
const NON_RECOVERABLE_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'ValidationError',
  'ValidationException',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'PackedPolicyTooLarge',
  'PackedPolicyTooLargeException',
  'RegionDisabledException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'UnrecognizedClientException',
  'OptInRequired',
  'AuthFailure',
  'InvalidAction',
]);

/** Node network error codes: transient by nature. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
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

/** The AWS error code an SDK error carries (`AccessDenied`, `Throttling`, ...). */
export function awsErrorCode(error: unknown): string | undefined {
  const e = asErrorLike(error);
  if (!e) return undefined;
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

/**
 * Whether a failure of a credential source is worth retrying after a backoff.
 * An explicit boolean `retryable` on the error wins (our own errors carry one); then the AWS
 * code table; then the HTTP status (5xx and 429 recoverable, other 4xx not); then network
 * error codes. Anything else, e.g. a plain `Error` with no status, counts as recoverable,
 * because an unknown failure is far more often transient than a permanent refusal.
 */
export function isRecoverableError(error: unknown): boolean {
  const e = asErrorLike(error);
  if (!e) return true;
  if (typeof e.retryable === 'boolean') return e.retryable;
  const code = awsErrorCode(error);
  if (code !== undefined) {
    if (RECOVERABLE_CODES.has(code) || NETWORK_ERROR_CODES.has(code)) return true;
    if (NON_RECOVERABLE_CODES.has(code)) return false;
  }
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  if (e.$fault === 'client') return false;
  return true;
}

/** Whether a service rejected a request because its credentials expired or were revoked. */
export function isExpiredCredentialsError(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === 'ExpiredToken' || code === 'ExpiredTokenException' || code === 'RequestExpired';
}
