/**
 * Codes of the failures the sandbox itself raises (never AWS wire errors, which are answered over HTTP).
 */
export const SandboxErrorCode = {
  FixtureInvalid: 'FIXTURE_INVALID',
  FixtureUnreadable: 'FIXTURE_UNREADABLE',
  UnknownPrincipal: 'UNKNOWN_PRINCIPAL',
  ListenFailed: 'LISTEN_FAILED',
  /** An admin mutation named an account the sandbox does not have. */
  UnknownAccount: 'UNKNOWN_ACCOUNT',
  /** `addAccount` with the id of an account the sandbox already has. */
  AccountExists: 'ACCOUNT_EXISTS',
  /** An admin mutation named a root or OU the organization does not have. */
  UnknownParent: 'UNKNOWN_PARENT',
  /** An organization mutation on a fixture without `organization`. */
  NoOrganization: 'NO_ORGANIZATION',
  /** The management account cannot leave its organization (as on AWS). */
  ManagementAccount: 'MANAGEMENT_ACCOUNT',
} as const;

export type SandboxErrorCode = (typeof SandboxErrorCode)[keyof typeof SandboxErrorCode];

/** One problem found in a fixture, located by its path (e.g. `accounts[1].instances[0].state`). */
export interface FixtureIssue {
  readonly path: string;
  readonly message: string;
}

export interface SandboxErrorOptions {
  cause?: unknown;
  issues?: readonly FixtureIssue[];
}

/**
 * The single runtime error class of `@rolegraph/sandbox`.
 *
 * @example
 * try { loadFixture('fixture.yaml') } catch (e) {
 *   if (e instanceof SandboxError && e.code === 'FIXTURE_INVALID') console.log(e.issues);
 * }
 */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  readonly code: SandboxErrorCode;
  /** Fixture problems with their paths; empty for other codes. */
  readonly issues: readonly FixtureIssue[];
  /** None of the sandbox's own failures go away by retrying. */
  readonly retryable = false;

  constructor(code: SandboxErrorCode, message: string, options: SandboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
  }
}
