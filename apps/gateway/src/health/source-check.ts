import { CredentialsError, CredentialsErrorCode, type SessionCache } from '@rolegraph/credentials';
import { redact } from '../errors.js';
import type { LogFn } from '../observability/log.js';

/** What the gateway knows about the identity that assumes its roles. */
export interface SourceStatus {
  /** `unchecked` until `check()` is first called (in-process use); `ok` once STS named it. */
  state: 'unchecked' | 'checking' | 'ok' | 'missing' | 'failed';
  /** The source principal's ARN, once known. */
  arn?: string;
  /** Why it is not known: `SOURCE_CREDENTIALS_UNAVAILABLE`, or the AWS error code STS answered. */
  code?: string;
}

export interface SourceCheckOptions {
  sessions: Pick<SessionCache, 'sourceIdentity'>;
  log: LogFn;
  /** Time between attempts while the identity is unknown. @default 30_000 */
  retryMs?: number;
}

/** The start-up check of the source identity, retried until STS answers. */
export interface SourceCheck {
  status(): SourceStatus;
  /** Ask STS now (once at a time); later attempts follow every `retryMs` until one succeeds. */
  check(): Promise<SourceStatus>;
  stop(): void;
}

/**
 * Resolves the source identity (STS GetCallerIdentity with the source credentials) and logs who
 * it is, or warns that there is none; it never stops the gateway from starting.
 *
 * @example
 * const source = createSourceCheck({ sessions, log });
 * await source.check(); // logs "source identity" with its ARN, or a warning
 */
export function createSourceCheck(options: SourceCheckOptions): SourceCheck {
  const retryMs = options.retryMs ?? 30_000;
  const { log } = options;
  let status: SourceStatus = { state: 'unchecked' };
  let running: Promise<SourceStatus> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const attempt = async (): Promise<SourceStatus> => {
    if (status.state !== 'ok') status = { ...status, state: 'checking' };
    try {
      const identity = await options.sessions.sourceIdentity();
      status = { state: 'ok', arn: identity.arn };
      log({ level: 'info', msg: 'source identity', arn: identity.arn, accountId: identity.account });
      return status;
    } catch (error) {
      const missing =
        error instanceof CredentialsError &&
        error.code === CredentialsErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE;
      const code = missing
        ? CredentialsErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE
        : ((error as { name?: string }).name ?? 'Error');
      status = { state: missing ? 'missing' : 'failed', code };
      log({
        level: 'warn',
        msg: missing
          ? 'no source credentials found: every account fails until credentials are provided (AWS_PROFILE, aws sso login, an instance or container role)'
          : 'the source identity could not be checked: STS did not answer',
        code,
        error: error instanceof Error ? redact(error.message) : undefined,
        retryInMs: retryMs,
      });
      if (!stopped) {
        retry = setTimeout(() => {
          retry = undefined;
          void run();
        }, retryMs);
        retry.unref();
      }
      return status;
    }
  };
  const run = (): Promise<SourceStatus> => {
    running ??= attempt().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    status: () => status,
    check: () => {
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      return run();
    },
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
    },
  };
}
