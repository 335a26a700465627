/**
 * Stable error codes of `@rolegraph/credentials`. Switch on `error.code`, never on messages.
 */
export const CredentialsErrorCode = {
  /** Nothing is cached and the source failed with a recoverable error (throttling, 5xx, network, timeout). */
  CREDENTIALS_UNAVAILABLE: 'CREDENTIALS_UNAVAILABLE',
  /** STS refused the AssumeRole call for good (AccessDenied, validation error, disabled region, ...). */
  ASSUME_ROLE_REJECTED: 'ASSUME_ROLE_REJECTED',
  /** STS failed in a way worth retrying later (throttling, 5xx, network, timeout). */
  ASSUME_ROLE_FAILED: 'ASSUME_ROLE_FAILED',
  /** The source answered with something that is not a usable credential. */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  /** The source did not answer within `sourceTimeoutMs`. */
  SOURCE_TIMEOUT: 'SOURCE_TIMEOUT',
  /** The session or provider was closed and can no longer hand out credentials. */
  SESSION_CLOSED: 'SESSION_CLOSED',
  /**
   * The credentials that call AssumeRole could not be loaded at all: the SDK's default chain
   * found none, an SSO token expired, a profile is missing. Not retryable: nothing changes until
   * someone provides credentials.
   */
  SOURCE_CREDENTIALS_UNAVAILABLE: 'SOURCE_CREDENTIALS_UNAVAILABLE',
} as const;

export type CredentialsErrorCode = (typeof CredentialsErrorCode)[keyof typeof CredentialsErrorCode];

export interface CredentialsErrorOptions {
  code: CredentialsErrorCode;
  retryable: boolean;
  roleArn?: string | undefined;
  /** The AWS error code the failure carried (`AccessDenied`, `Throttling`, ...), if any. */
  awsCode?: string | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

/**
 * The one error class of `@rolegraph/credentials`. Messages name the role ARN and account,
 * never a secret.
 *
 * @example
 * try { await provider(); } catch (e) {
 *   if (e instanceof CredentialsError && e.code === 'ASSUME_ROLE_REJECTED') alertOps(e.roleArn);
 * }
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
  readonly code: CredentialsErrorCode;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  readonly roleArn: string | undefined;
  /** The 12-digit account of `roleArn`, if it names one. */
  readonly accountId: string | undefined;
  readonly awsCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, options: CredentialsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable;
    this.roleArn = options.roleArn;
    this.accountId = options.roleArn ? accountIdOf(options.roleArn) : undefined;
    this.awsCode = options.awsCode;
    this.requestId = options.requestId;
  }
}

/** The account id inside an ARN such as `arn:aws:iam::123456789012:role/Reader`. */
export function accountIdOf(arn: string): string | undefined {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];
}
