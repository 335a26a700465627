import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isRecoverableError } from './aws-error-codes.js';
import { CredentialsError, CredentialsErrorCode } from './errors.js';

/** What a source is handed on each call. The signal fires when `sourceTimeoutMs` passes. */
export interface CredentialSourceContext {
  signal: AbortSignal;
}

/**
 * Where fresh credentials come from: STS AssumeRole, or anything else that returns
 * credentials with an `expiration`. Called only by the cache, never concurrently.
 */
export type CredentialSource = (context: CredentialSourceContext) => Promise<AwsCredentialIdentity>;

/** Why a refresh was started. */
export type RefreshReason = 'initial' | 'advisory' | 'mandatory' | 'expired' | 'invalidated' | 'proactive';

/**
 * What the cache reports as it works. Events never carry key material.
 * `at` is the cache clock's reading (ms since the epoch).
 */
export type CredentialEvent =
  | { type: 'refresh-started'; reason: RefreshReason; at: number }
  | {
      type: 'refresh-succeeded';
      reason: RefreshReason;
      at: number;
      durationMs: number;
      expiration: Date | undefined;
      advisoryWindowMs: number;
    }
  | {
      type: 'refresh-failed';
      reason: RefreshReason;
      at: number;
      durationMs: number;
      recoverable: boolean;
      error: unknown;
    }
  | { type: 'backoff'; at: number; until: number; backoffMs: number }
  | {
      type: 'served-stale';
      at: number;
      expiration: Date | undefined;
      expired: boolean;
      cause: 'refresh-failed' | 'backoff';
    };

export type CredentialEventListener = (event: CredentialEvent) => void;

/** A range `[min, max]` in milliseconds; a value is drawn uniformly from it. */
export interface JitterRange {
  minMs: number;
  maxMs: number;
}

/** Timer functions, injectable for tests. Handles are `unref`'d when they support it. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RefreshingCredentialsOptions {
  /** Where fresh credentials come from. */
  source: CredentialSource;
  /** The role this cache holds credentials for; named in error messages. */
  roleArn?: string;
  /**
   * Refresh this long before expiry without making callers wait.
   * @default chosen from the lifetime: <= 20 min: 5 min; < 90 min: 15 min; else 60 min
   */
  advisoryWindowMs?: number;
  /**
   * Within this long of expiry callers wait for the refresh.
   * @default 60_000
   */
  mandatoryWindowMs?: number;
  /**
   * After a recoverable failure the source is left alone for a time drawn from this range,
   * and the cached credentials are served meanwhile.
   * @default { minMs: 300_000, maxMs: 600_000 }
   */
  refreshBackoff?: JitterRange;
  /**
   * A non-recoverable failure is re-raised without calling the source for a time drawn from
   * this range.
   * @default { minMs: 1_000, maxMs: 5_000 }
   */
  nonRecoverableErrorTtl?: JitterRange;
  /**
   * Refresh from an `unref`'d timer just before the advisory window, so that in steady
   * state no request waits for the source.
   * @default true
   */
  proactiveRefresh?: boolean;
  /**
   * A source call that takes longer than this is aborted and counts as a recoverable failure.
   * @default 30_000
   */
  sourceTimeoutMs?: number;
  /** Classifies a source failure. @default isRecoverableError */
  isRecoverable?: (error: unknown) => boolean;
  /** The clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  /** Randomness in [0, 1) for every jitter. @default Math.random */
  random?: () => number;
  /** @default the global setTimeout / clearTimeout */
  timers?: Timers;
  /** Shorthand for calling `on(listener)` right away. */
  onEvent?: CredentialEventListener;
}

/** The state of the cache, safe to show: no key material. */
export interface CredentialStatus {
  state: 'empty' | 'fresh' | 'advisory' | 'mandatory' | 'expired';
  expiration: Date | undefined;
  advisoryWindowMs: number | undefined;
  lastRefreshAt: Date | undefined;
  lastError: { code: string; message: string; at: Date; recoverable: boolean } | undefined;
  backoffUntil: Date | undefined;
  refreshing: boolean;
  /** How many times the source was called. */
  sourceCalls: number;
}

/**
 * An AWS SDK v3 credential provider that caches, refreshes and survives source outages.
 * Pass it as `credentials` to any number of clients: they all share one cache. It is marked
 * `memoized` so the SDK calls it on every request instead of caching on its own; a cached
 * call costs a clock read.
 */
export interface RefreshingCredentialProvider extends AwsCredentialIdentityProvider {
  (): Promise<AwsCredentialIdentity>;
  readonly memoized: true;
  /**
   * A service rejected `accessKeyId`. If it is the cached key, the next call takes the
   * mandatory refresh path; if a refresh already replaced it, nothing changes.
   */
  invalidate(accessKeyId: string): void;
  /** Subscribe to events; returns the unsubscribe function. */
  on(listener: CredentialEventListener): () => void;
  status(): CredentialStatus;
  /** Stop the proactive timer and refuse further calls. */
  close(): void;
}

const MINUTE = 60_000;

/**
 * The advisory window AWS's consistent-refresh specification picks for a credential
 * lifetime: <= 20 min: 5 min; > 20 and < 90 min: 15 min; >= 90 min: 60 min.
 */
export function advisoryWindowFor(lifetimeMs: number): number {
  if (lifetimeMs <= 20 * MINUTE) return 5 * MINUTE;
  if (lifetimeMs < 90 * MINUTE) return 15 * MINUTE;
  return 60 * MINUTE;
}

interface Cached {
  identity: AwsCredentialIdentity;
  expiresAt: number;
  advisoryWindowMs: number;
  /** Before this instant the credentials are fresh: the hot path compares against it only. */
  freshUntil: number;
  /** When the proactive timer refreshes: a little before `freshUntil`, so no caller gets there first. */
  proactiveAt: number;
}

// setTimeout's delay is a signed 32-bit integer; longer delays fire at once.
const MAX_TIMER_MS = 2_147_483_647;
/**
 * A source may hand back credentials that are already due for refresh (short-lived, or an
 * upstream cache near its own expiry). They are used as fresh for at least this long, so
 * neither callers nor the proactive timer call the source in a tight loop.
 */
const MIN_REFRESH_INTERVAL_MS = 10_000;

function checkRange(name: string, range: JitterRange | undefined, fallback: JitterRange): JitterRange {
  if (range === undefined) return fallback;
  const ok =
    typeof range === 'object' &&
    Number.isFinite(range.minMs) &&
    Number.isFinite(range.maxMs) &&
    range.minMs >= 0 &&
    range.maxMs >= range.minMs;
  if (!ok) {
    throw new TypeError(
      `${name} must be { minMs, maxMs } with 0 <= minMs <= maxMs, got ${JSON.stringify(range)}`,
    );
  }
  return range;
}

function checkDuration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Wrap a credential source in a refreshing cache that follows AWS's consistent credential
 * refresh specification: deferred first fetch, advisory and mandatory windows, single-flight
 * refresh, static stability through source outages with a jittered backoff, short memory of
 * non-recoverable errors, and invalidation by access key id.
 *
 * @example
 * const credentials = createRefreshingCredentials({ source: () => fetchFromSomewhere() });
 * const ec2 = new EC2Client({ region: 'us-east-1', credentials });
 */
export function createRefreshingCredentials(
  options: RefreshingCredentialsOptions,
): RefreshingCredentialProvider {
  if (typeof options?.source !== 'function') {
    throw new TypeError(`source must be a function returning credentials, got ${typeof options?.source}`);
  }
  const source = options.source;
  const configuredAdvisoryMs =
    options.advisoryWindowMs === undefined
      ? undefined
      : checkDuration('advisoryWindowMs', options.advisoryWindowMs, 0);
  const mandatoryWindowMs = checkDuration('mandatoryWindowMs', options.mandatoryWindowMs, MINUTE);
  const backoffRange = checkRange('refreshBackoff', options.refreshBackoff, {
    minMs: 5 * MINUTE,
    maxMs: 10 * MINUTE,
  });
  const errorTtlRange = checkRange('nonRecoverableErrorTtl', options.nonRecoverableErrorTtl, {
    minMs: 1_000,
    maxMs: 5_000,
  });
  const sourceTimeoutMs = checkDuration('sourceTimeoutMs', options.sourceTimeoutMs, 30_000);
  const proactive = options.proactiveRefresh ?? true;
  const isRecoverable = options.isRecoverable ?? isRecoverableError;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const timers: Timers = options.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const roleArn = options.roleArn;

  const listeners = new Set<CredentialEventListener>();
  if (options.onEvent) listeners.add(options.onEvent);

  let cached: Cached | undefined;
  let invalidated = false;
  let backoffUntil = 0;
  let remembered: { error: unknown; until: number } | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  let timer: unknown;
  let closed = false;
  let sourceCalls = 0;
  let lastRefreshAt: number | undefined;
  let lastError: CredentialStatus['lastError'];

  const jitter = (range: JitterRange) => range.minMs + random() * (range.maxMs - range.minMs);

  const emit = (event: CredentialEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not break credential resolution.
      }
    }
  };

  type Phase = 'fresh' | 'advisory' | 'mandatory' | 'expired';
  const phaseAt = (entry: Cached, t: number): Phase => {
    const remaining = entry.expiresAt - t;
    if (remaining <= 0) return 'expired';
    if (remaining <= mandatoryWindowMs) return 'mandatory';
    if (remaining <= entry.advisoryWindowMs) return 'advisory';
    return 'fresh';
  };

  const servedStale = (entry: Cached, t: number, cause: 'refresh-failed' | 'backoff') => {
    emit({
      type: 'served-stale',
      at: t,
      expiration: entry.identity.expiration,
      expired: entry.expiresAt <= t,
      cause,
    });
    return entry.identity;
  };

  const callSource = async (): Promise<AwsCredentialIdentity> => {
    sourceCalls++;
    const controller = new AbortController();
    let timeoutHandle: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timeoutHandle = timers.setTimeout(() => {
        const error = new CredentialsError(
          `credential source${roleArn ? ` for ${roleArn}` : ''} did not answer within ${sourceTimeoutMs} ms`,
          { code: CredentialsErrorCode.SOURCE_TIMEOUT, retryable: true, roleArn },
        );
        controller.abort(error);
        reject(error);
      }, sourceTimeoutMs);
      (timeoutHandle as { unref?: () => void } | undefined)?.unref?.();
    });
    try {
      return await Promise.race([source({ signal: controller.signal }), timeout]);
    } finally {
      timers.clearTimeout(timeoutHandle);
    }
  };

  const scheduleProactive = (at: number) => {
    if (!proactive || closed) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    const delay = Math.min(Math.max(0, at - now()), MAX_TIMER_MS);
    timer = timers.setTimeout(onTimer, delay);
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };

  const scheduleAfterSuccess = (entry: Cached) => {
    if (entry.expiresAt === Number.POSITIVE_INFINITY) return;
    scheduleProactive(entry.proactiveAt);
  };

  function onTimer() {
    timer = undefined;
    if (closed || inflight || !cached) return;
    const t = now();
    if (t < cached.proactiveAt && !invalidated) {
      scheduleAfterSuccess(cached);
      return;
    }
    if (t < backoffUntil) {
      scheduleProactive(backoffUntil);
      return;
    }
    if (remembered && t < remembered.until) {
      scheduleProactive(remembered.until);
      return;
    }
    // Every outcome is handled inside refresh(); this catch only keeps the promise handled.
    refresh('proactive').catch(() => undefined);
  }

  const refresh = (reason: RefreshReason): Promise<AwsCredentialIdentity> => {
    const started = now();
    emit({ type: 'refresh-started', reason, at: started });
    const attempt = (async () => {
      try {
        let identity: AwsCredentialIdentity;
        try {
          identity = await callSource();
          validateIdentity(identity, roleArn);
        } catch (error) {
          return onFailure(error, reason, started);
        }
        const t = now();
        const expiresAt = identity.expiration ? identity.expiration.getTime() : Number.POSITIVE_INFINITY;
        if (expiresAt <= t) {
          const stale = new CredentialsError(
            `credential source${roleArn ? ` for ${roleArn}` : ''} returned credentials that already expired`,
            { code: CredentialsErrorCode.INVALID_CREDENTIALS, retryable: true, roleArn },
          );
          return onFailure(stale, reason, started);
        }
        const advisoryWindowMs = configuredAdvisoryMs ?? advisoryWindowFor(expiresAt - t);
        const frozen = Object.freeze({ ...identity });
        const freshUntil = Math.max(
          expiresAt - Math.max(advisoryWindowMs, mandatoryWindowMs),
          Math.min(t + MIN_REFRESH_INTERVAL_MS, expiresAt),
        );
        // Lead the window by up to a tenth of it (at most 30 s), jittered so that many sessions
        // issued together do not refresh together.
        const lead = Math.min((expiresAt - freshUntil) / 10, 30_000) * (0.5 + 0.5 * random());
        const proactiveAt = Math.max(freshUntil - lead, Math.min(t + MIN_REFRESH_INTERVAL_MS, freshUntil));
        cached = { identity: frozen, expiresAt, advisoryWindowMs, freshUntil, proactiveAt };
        invalidated = false;
        backoffUntil = 0;
        remembered = undefined;
        lastRefreshAt = t;
        emit({
          type: 'refresh-succeeded',
          reason,
          at: t,
          durationMs: t - started,
          expiration: identity.expiration,
          advisoryWindowMs,
        });
        scheduleAfterSuccess(cached);
        return frozen;
      } finally {
        inflight = undefined;
      }
    })();
    inflight = attempt;
    return attempt;
  };

  const onFailure = (error: unknown, reason: RefreshReason, started: number): AwsCredentialIdentity => {
    const t = now();
    const recoverable = isRecoverable(error);
    lastError = {
      code: errorCode(error),
      message: error instanceof Error ? error.message : String(error),
      at: new Date(t),
      recoverable,
    };
    emit({ type: 'refresh-failed', reason, at: t, durationMs: t - started, recoverable, error });
    if (!recoverable) {
      remembered = { error, until: t + jitter(errorTtlRange) };
      if (reason === 'proactive') scheduleProactive(t + jitter(backoffRange));
      throw error;
    }
    if (!cached) {
      throw new CredentialsError(
        `no credentials available${roleArn ? ` for ${roleArn}` : ''}: the source failed and nothing is cached`,
        {
          code: CredentialsErrorCode.CREDENTIALS_UNAVAILABLE,
          retryable: true,
          roleArn,
          awsCode: error instanceof CredentialsError ? error.awsCode : undefined,
          cause: error,
        },
      );
    }
    const backoffMs = jitter(backoffRange);
    backoffUntil = t + backoffMs;
    emit({ type: 'backoff', at: t, until: backoffUntil, backoffMs });
    scheduleProactive(backoffUntil);
    return servedStale(cached, t, 'refresh-failed');
  };

  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (closed) {
      throw new CredentialsError(`credentials${roleArn ? ` for ${roleArn}` : ''} were closed`, {
        code: CredentialsErrorCode.SESSION_CLOSED,
        retryable: false,
        roleArn,
      });
    }
    const t = now();
    const entry = cached;
    if (entry && t < entry.freshUntil && !invalidated) return entry.identity;

    if (remembered) {
      if (t < remembered.until) throw remembered.error;
      remembered = undefined;
    }
    if (!entry) return inflight ?? refresh('initial');

    if (t < backoffUntil) return servedStale(entry, t, 'backoff');

    const phase = invalidated ? 'mandatory' : phaseAt(entry, t);
    if (phase === 'advisory') {
      // One caller refreshes; everyone else keeps the current credentials meanwhile.
      return inflight ? entry.identity : refresh('advisory');
    }
    if (inflight) return inflight;
    return refresh(invalidated ? 'invalidated' : (phase as RefreshReason));
  };

  const api = {
    memoized: true as const,
    invalidate(accessKeyId: string) {
      if (cached && cached.identity.accessKeyId === accessKeyId) invalidated = true;
    },
    on(listener: CredentialEventListener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    status(): CredentialStatus {
      const t = now();
      let state: CredentialStatus['state'] = 'empty';
      if (cached) state = invalidated ? 'mandatory' : phaseAt(cached, t);
      return {
        state,
        expiration: cached?.identity.expiration,
        advisoryWindowMs: cached?.advisoryWindowMs,
        lastRefreshAt: lastRefreshAt === undefined ? undefined : new Date(lastRefreshAt),
        lastError,
        backoffUntil: backoffUntil > t ? new Date(backoffUntil) : undefined,
        refreshing: inflight !== undefined,
        sourceCalls,
      };
    },
    close() {
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
  return Object.assign(provider, api);
}

function validateIdentity(identity: AwsCredentialIdentity, roleArn: string | undefined): void {
  const ok =
    typeof identity === 'object' &&
    identity !== null &&
    typeof identity.accessKeyId === 'string' &&
    identity.accessKeyId.length > 0 &&
    typeof identity.secretAccessKey === 'string' &&
    identity.secretAccessKey.length > 0 &&
    (identity.expiration === undefined ||
      (identity.expiration instanceof Date && !Number.isNaN(identity.expiration.getTime())));
  if (!ok) {
    throw new CredentialsError(
      `credential source${roleArn ? ` for ${roleArn}` : ''} returned no usable credentials (missing key id, secret or a valid expiration)`,
      { code: CredentialsErrorCode.INVALID_CREDENTIALS, retryable: true, roleArn },
    );
  }
}

function errorCode(error: unknown): string {
  if (error instanceof CredentialsError) return error.awsCode ?? error.code;
  if (typeof error === 'object' && error !== null) {
    const { name, code } = error as { name?: unknown; code?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'Error';
}
