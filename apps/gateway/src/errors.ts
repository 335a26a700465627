import { GraphQLError } from 'graphql';

/**
 * Stable `extensions.code` values the gateway itself produces. Errors of the adapters
 * (`AWS_THROTTLED`, ...) and of `@rolegraph/credentials` (`ASSUME_ROLE_REJECTED`, ...) keep
 * their own codes; anything else is masked to `INTERNAL_SERVER_ERROR`.
 */
export const GatewayErrorCode = {
  /** No configured account has this alias or id (only for callers allowed every account). */
  ACCOUNT_NOT_FOUND: 'ACCOUNT_NOT_FOUND',
  /** The caller may not use this account; also answered for unknown accounts so nothing leaks. */
  FORBIDDEN: 'FORBIDDEN',
  /** No or invalid API key / JWT while authentication is configured. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The region is not one of the account's configured regions. */
  REGION_NOT_CONFIGURED: 'REGION_NOT_CONFIGURED',
  /** A bad argument: page size out of range, malformed cursor, ... */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The operation's estimated cost (with account x region fan-out) is above `limits.maxCost`. */
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  /** A GetCallerIdentity call failed. */
  AWS_ERROR: 'AWS_ERROR',
} as const;

export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/** Where a failure happened, as shown to callers in `extensions`. */
export interface ErrorLocation {
  /** The account as the caller named it (alias, or id when no alias is known). */
  account?: string | undefined;
  accountId?: string | undefined;
  region?: string | undefined;
}

export interface GatewayErrorOptions extends ErrorLocation {
  code: GatewayErrorCode;
  retryable?: boolean;
  awsCode?: string | undefined;
  requestId?: string | undefined;
  httpStatus?: number;
  cause?: unknown;
}

/**
 * The one runtime error class of the gateway. Its message and fields are shown to callers,
 * so they never contain secrets or other accounts' names.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly account: string | undefined;
  readonly accountId: string | undefined;
  readonly region: string | undefined;
  readonly retryable: boolean;
  readonly awsCode: string | undefined;
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.account = options.account;
    this.accountId = options.accountId;
    this.region = options.region;
    this.retryable = options.retryable ?? false;
    this.awsCode = options.awsCode;
    this.requestId = options.requestId;
    this.httpStatus = options.httpStatus;
  }
}

/** The fields every typed error shows under `extensions`. */
export interface ErrorExtensions {
  code: string;
  account: string | null;
  accountId: string | null;
  region: string | null;
  awsCode: string | null;
  requestId: string | null;
  retryable: boolean;
}

interface TypedFields {
  code: string;
  retryable: boolean;
  accountId?: string | undefined;
  region?: string | undefined;
  awsCode?: string | undefined;
  requestId?: string | undefined;
  account?: string | undefined;
  roleArn?: string | undefined;
}

const TYPED_ERROR_NAMES = new Set(['Ec2Error', 'S3Error', 'CredentialsError', 'GatewayError']);

/** A typed error of the gateway, an adapter or the credentials package (by name, so dual copies match). */
export function typedError(error: unknown): (Error & TypedFields) | undefined {
  if (!(error instanceof Error) || !TYPED_ERROR_NAMES.has(error.name)) return undefined;
  const fields = error as Error & Partial<TypedFields>;
  return typeof fields.code === 'string' ? (fields as Error & TypedFields) : undefined;
}

/**
 * The error a resolver threw, under the GraphQL error that wraps it (`originalError`, or
 * `cause` where an executor wraps it that way).
 */
export function originalOf(error: unknown): unknown {
  // By name, not instanceof: graphql ships both an ESM and a CJS build, and the executor may
  // load the other one, so its GraphQLError is a different class.
  if (!(error instanceof Error) || error.name !== 'GraphQLError') return error;
  const wrapped = error as Error & { originalError?: unknown; cause?: unknown };
  return wrapped.originalError ?? wrapped.cause ?? error;
}

/** A GraphQLError of any copy of graphql (ESM or CJS), by name as in `originalOf`. */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/**
 * The code of a GraphQL error graphql-js or yoga made itself. Most carry one; the ones that do
 * not are, without a path, about the request (variables that do not coerce: `BAD_USER_INPUT`)
 * and, with a path, a field that broke the schema's contract (`INTERNAL_SERVER_ERROR`).
 */
export function ownErrorCode(error: GraphQLError): string {
  const code = error.extensions?.code;
  if (typeof code === 'string') return code;
  return error.path ? 'INTERNAL_SERVER_ERROR' : GatewayErrorCode.BAD_USER_INPUT;
}

/** A GraphQL error of graphql-js or yoga, as shown to callers: always with a code, masked if a bug. */
export function withCode(error: GraphQLError): GraphQLError {
  if (typeof error.extensions?.code === 'string') return error;
  const code = ownErrorCode(error);
  return new GraphQLError(code === 'INTERNAL_SERVER_ERROR' ? 'Unexpected error.' : error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    extensions: { ...error.extensions, code },
  });
}

const KEY_MATERIAL = /\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g;

/** Replaces anything shaped like an access key id; messages are shown to callers and logged. */
export function redact(text: string): string {
  return text.replace(KEY_MATERIAL, '[redacted]');
}

/**
 * A typed error as the GraphQL error a caller sees: the code, where it happened, the AWS
 * code and request id when AWS answered, and whether to retry. `aliasOf` turns account
 * ids into the names the caller uses.
 */
export function toGraphQLError(
  error: Error & TypedFields,
  aliasOf: (accountId: string) => string | undefined,
  wrapper: unknown,
): GraphQLError {
  const original =
    wrapper instanceof Error && wrapper.name === 'GraphQLError' ? (wrapper as GraphQLError) : undefined;
  const accountId = error.accountId;
  const extensions: ErrorExtensions = {
    code: error.code,
    account: error.account ?? (accountId ? (aliasOf(accountId) ?? accountId) : null),
    accountId: accountId ?? null,
    region: error.region ?? null,
    awsCode: error.awsCode ?? null,
    requestId: error.requestId ?? null,
    retryable: error.retryable,
  };
  const http =
    error instanceof GatewayError && error.httpStatus ? { http: { status: error.httpStatus } } : {};
  return new GraphQLError(redact(error.message), {
    ...(original?.nodes ? { nodes: original.nodes } : {}),
    ...(original?.path ? { path: original.path } : {}),
    ...(original?.source ? { source: original.source } : {}),
    ...(original?.positions ? { positions: original.positions } : {}),
    extensions: { ...extensions, ...http },
  });
}
