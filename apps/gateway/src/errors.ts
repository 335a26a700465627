import { CredentialsError } from '@rolegraph/credentials';
import { AdapterErrorCode, AwsCallError } from '@rolegraph/credentials/aws';
import { GraphQLError } from 'graphql';

/**
 * Stable `extensions.code` values the gateway itself produces. Failed AWS calls
 * (`AwsCallError`: `AWS_THROTTLED`, ...) and errors of `@rolegraph/credentials`
 * (`ASSUME_ROLE_REJECTED`, ...) keep their own codes, except that a call refused for the
 * caller's argument (a cursor) is `BAD_USER_INPUT`; anything else is masked to
 * `INTERNAL_SERVER_ERROR` (see `failureOf`).
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
  /** A bad argument: page size out of range, malformed or foreign cursor, ... */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The operation's estimated cost (with account x region fan-out) is above `limits.maxCost`. */
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  /** The operation's estimated AWS calls are above `limits.maxAwsCalls`; refused before any call. */
  AWS_CALL_BUDGET_EXCEEDED: 'AWS_CALL_BUDGET_EXCEEDED',
  /** The Host header is not one this gateway serves (HTTP 421): DNS rebinding protection. */
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  /** The request body is larger than `server.maxBodyBytes` (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /**
   * The account is not a configured one, and the organization's accounts are not known yet
   * (the first discovery has not succeeded): retryable.
   */
  ACCOUNTS_NOT_DISCOVERED: 'ACCOUNTS_NOT_DISCOVERED',
  /** Log and metric code: listing the organization failed (the last good account list is kept). */
  ORGANIZATION_DISCOVERY_FAILED: 'ORGANIZATION_DISCOVERY_FAILED',
  /** `persistedOperations` is configured and the request named no known document id (HTTP 400). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** `persistedOperations` is configured and the request sent its own document (HTTP 400). */
  PERSISTED_QUERY_ONLY: 'PERSISTED_QUERY_ONLY',
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
  declare readonly code: GatewayErrorCode;
  declare readonly account: string | undefined;
  declare readonly accountId: string | undefined;
  declare readonly region: string | undefined;
  declare readonly retryable: boolean;
  declare readonly awsCode: string | undefined;
  declare readonly requestId: string | undefined;
  declare readonly httpStatus: number | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    const { cause, ...fields } = options;
    super(message, cause === undefined ? undefined : { cause });
    const unset = { account: undefined, accountId: undefined, region: undefined, awsCode: undefined };
    Object.assign(this, unset, { requestId: undefined, httpStatus: undefined, retryable: false }, fields);
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
  /** With `CREDENTIALS_UNAVAILABLE`: why the credentials could not be obtained (`ASSUME_ROLE_REJECTED`, ...). */
  credentialsCode: string | null;
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
  credentialsCode?: string | undefined;
}

/**
 * A typed error of the gateway, an adapter (any `AwsCallError`) or the credentials package.
 * By `instanceof`: each of these classes comes from the one copy of its workspace package.
 */
export function typedError(error: unknown): (Error & TypedFields) | undefined {
  if (error instanceof AwsCallError || error instanceof CredentialsError || error instanceof GatewayError) {
    return error;
  }
  return undefined;
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

/** What a caller is shown for a failure, decided in one place for masking and reporting alike. */
export type Failure =
  /** A typed error of ours, shown with `code` (its own, or `BAD_USER_INPUT` for a refused argument). */
  | { kind: 'typed'; error: Error & TypedFields; code: string; message: string }
  /** A GraphQL error graphql-js or yoga made (validation, limits, variables). */
  | { kind: 'graphql'; error: GraphQLError; code: string }
  /** Anything else: a bug, masked. */
  | { kind: 'internal'; code: 'INTERNAL_SERVER_ERROR' };

/**
 * The one mapping from an error (as a resolver threw it, or wrapped in a GraphQL error) to
 * what the caller sees: `maskError` renders it, `useErrorReporting` counts and logs its code.
 *
 * @example
 * failureOf(new GatewayError('no', { code: 'FORBIDDEN' })).code; // 'FORBIDDEN'
 */
export function failureOf(error: unknown): Failure {
  const original = originalOf(error);
  if (isGraphQLError(error) && (original === error || isGraphQLError(original))) {
    return { kind: 'graphql', error, code: ownErrorCode(error) };
  }
  const typed = typedError(original);
  if (!typed) return { kind: 'internal', code: 'INTERNAL_SERVER_ERROR' };
  // AWS or the adapter refused one of the caller's arguments (a forged or foreign cursor).
  if (typed instanceof AwsCallError && (typed.argument || typed.code === AdapterErrorCode.INVALID_ARGUMENT)) {
    const argument = typed.argument ?? 'an argument';
    return {
      kind: 'typed',
      error: typed,
      code: GatewayErrorCode.BAD_USER_INPUT,
      message: `${argument} is not usable here: ${typed.message}`,
    };
  }
  return { kind: 'typed', error: typed, code: typed.code, message: typed.message };
}

/**
 * A typed failure as the GraphQL error a caller sees: the code, where it happened, the AWS
 * code and request id when AWS answered, and whether to retry. `aliasOf` turns account
 * ids into the names the caller uses.
 */
export function toGraphQLError(
  failure: Extract<Failure, { kind: 'typed' }>,
  aliasOf: (accountId: string) => string | undefined,
  wrapper: unknown,
): GraphQLError {
  const { error } = failure;
  const original =
    wrapper instanceof Error && wrapper.name === 'GraphQLError' ? (wrapper as GraphQLError) : undefined;
  const accountId = error.accountId;
  const extensions: ErrorExtensions = {
    code: failure.code,
    account: error.account ?? (accountId ? (aliasOf(accountId) ?? accountId) : null),
    accountId: accountId ?? null,
    region: error.region ?? null,
    awsCode: error.awsCode ?? null,
    requestId: error.requestId ?? null,
    retryable: error.retryable,
    credentialsCode: error.credentialsCode ?? null,
  };
  const http =
    error instanceof GatewayError && error.httpStatus ? { http: { status: error.httpStatus } } : {};
  return new GraphQLError(redact(failure.message), {
    ...(original?.nodes ? { nodes: original.nodes } : {}),
    ...(original?.path ? { path: original.path } : {}),
    ...(original?.source ? { source: original.source } : {}),
    ...(original?.positions ? { positions: original.positions } : {}),
    extensions: { ...extensions, ...http },
  });
}
