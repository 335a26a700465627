import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isRecoverableError } from './aws-error-codes.js';
import { CredentialsError, CredentialsErrorCode } from './errors.js';
import {
  advisoryWindowFor,
  afterFailure,
  afterSuccess,
  decide,
  EMPTY_STATE,
  phaseAt,
  type RefreshReason,
  type RefreshState,
  type RefreshWindows,
} from './refresh-rules.js';

export type { RefreshReason } from './refresh-rules.js';
export { advisoryWindowFor };

/** What a source is handed on each call. The signal fires when `sourceTimeoutMs` passes. */
export interface CredentialSourceContext {
  signal: AbortSignal;
  /**
   * Runs `wait`, time the source spends in a queue rather than at work (a rate-limit token),
   * with the `sourceTimeoutMs` deadline paused: it is bounded by `queueTimeoutMs` instead.
   * `wait` is given the signal to stop on.
   */
  queued<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

type QueuedWait = CredentialSourceContext['queued'];
const queuedWaits = new WeakMap<AbortSignal, QueuedWait>();

/**
 * Runs `wait` (a rate-limit queue) under `signal`; when `signal` is one a refresh handed its
 * source, with that source's deadline paused for the wait (see `CredentialSourceContext.queued`).
 * This is how the STS rate limiter, deep in an STS client's middleware, keeps a cold start over
 * thousands of roles (a queue of minutes) from timing out refreshes that have not begun.
 *
 * @example
 * await waitOutsideDeadline(abortSignal, (s) => limiter.acquire(bucket, s));
 */
export function waitOutsideDeadline<T>(
  signal: AbortSignal | undefined,
  wait: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const queued = signal ? queuedWaits.get(signal) : undefined;
  return queued ? queued(wait) : wait(signal);
}

/**
 * Where fresh credentials come from: STS AssumeRole, or anything else that returns
 * credentials with an `expiration`. Called only by the cache, never concurrently.
 */
export type CredentialSource = (context: CredentialSourceContext) => Promise<AwsCredentialIdentity>;

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
    }
  /** A recovery probe: the source is tried once although this cache is in backoff (see `probe`). */
  | { type: 'probe'; at: number }
  /** The backoff ended early because the source answered another cache (see `releaseBackoff`). */
  | { type: 'backoff-released'; at: number };

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
  /**
   * How long a source call may wait in queues (`CredentialSourceContext.queued`: the STS rate
   * limit of its source principal), time that does not count against `sourceTimeoutMs`.
   * @default 900_000
   */
  queueTimeoutMs?: number;
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
  /**
   * End a backoff early: the source answered for another cache of the same principal, so
   * the next call may refresh (single flight as always). Does nothing outside a backoff.
   */
  releaseBackoff(): void;
  /**
   * Try the source once now, even in backoff: the recovery probe of a session cache. Resolves
   * whether fresh credentials came back; never rejects. A failure starts a new backoff.
   */
  probe(): Promise<boolean>;
  /** Stop the proactive timer for good; calls keep working and refresh on demand. */
  retire(): void;
  /** Stop the proactive timer and refuse further calls. */
  close(): void;
}

const MINUTE = 60_000;

// setTimeout's delay is a signed 32-bit integer; longer delays fire at once.
const MAX_TIMER_MS = 2_147_483_647;

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
 * non-recoverable errors, and invalidation by access key id. The decisions are the pure
 * rules of `refresh-rules.ts`; this function only holds the credentials and runs the effects.
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
  const windows: RefreshWindows = {
    advisoryWindowMs:
      options.advisoryWindowMs === undefined
        ? undefined
        : checkDuration('advisoryWindowMs', options.advisoryWindowMs, 0),
    mandatoryWindowMs: checkDuration('mandatoryWindowMs', options.mandatoryWindowMs, MINUTE),
  };
  const backoffRange = checkRange('refreshBackoff', options.refreshBackoff, {
    minMs: 5 * MINUTE,
    maxMs: 10 * MINUTE,
  });
  const errorTtlRange = checkRange('nonRecoverableErrorTtl', options.nonRecoverableErrorTtl, {
    minMs: 1_000,
    maxMs: 5_000,
  });
  const sourceTimeoutMs = checkDuration('sourceTimeoutMs', options.sourceTimeoutMs, 30_000);
  const queueTimeoutMs = checkDuration('queueTimeoutMs', options.queueTimeoutMs, 15 * MINUTE);
  let proactive = options.proactiveRefresh ?? true;
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

  // The rules' state, plus what they never look at: the key material and the error to re-raise.
  let state: RefreshState = { ...EMPTY_STATE };
  let identity: AwsCredentialIdentity | undefined;
  let rememberedError: unknown;
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

  const servedStale = (t: number, cause: 'refresh-failed' | 'backoff'): AwsCredentialIdentity => {
    const entry = state.cached;
    const current = identity as AwsCredentialIdentity;
    emit({
      type: 'served-stale',
      at: t,
      expiration: current.expiration,
      expired: entry ? entry.expiresAt <= t : true,
      cause,
    });
    return current;
  };

  const callSource = async (): Promise<AwsCredentialIdentity> => {
    sourceCalls++;
    const controller = new AbortController();
    const who = roleArn ? ` for ${roleArn}` : '';
    let rejectTimeout: (error: unknown) => void = () => {};
    const timeout = new Promise<never>((_, reject) => {
      rejectTimeout = reject;
    });
    const expire = (error: CredentialsError) => {
      controller.abort(error);
      rejectTimeout(error);
    };
    // The deadline runs while the source works and stops while it waits in a queue.
    let leftMs = sourceTimeoutMs;
    let armedAt = 0;
    let timeoutHandle: unknown;
    const arm = () => {
      armedAt = now();
      timeoutHandle = timers.setTimeout(
        () =>
          expire(
            new CredentialsError(`credential source${who} did not answer within ${sourceTimeoutMs} ms`, {
              code: CredentialsErrorCode.SOURCE_TIMEOUT,
              retryable: true,
              roleArn,
            }),
          ),
        Math.max(0, leftMs),
      );
      (timeoutHandle as { unref?: () => void } | undefined)?.unref?.();
    };
    const disarm = () => {
      timers.clearTimeout(timeoutHandle);
      timeoutHandle = undefined;
      leftMs -= now() - armedAt;
    };
    let waiting = 0;
    const queued: QueuedWait = async (wait) => {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (waiting++ === 0) disarm();
      // The wait ends with the source: both the queue timeout and the caller abort `controller`.
      const queueHandle = timers.setTimeout(
        () =>
          expire(
            new CredentialsError(
              `credential source${who} waited more than ${queueTimeoutMs} ms for a rate-limit token`,
              { code: CredentialsErrorCode.SOURCE_TIMEOUT, retryable: true, roleArn },
            ),
          ),
        queueTimeoutMs,
      );
      (queueHandle as { unref?: () => void } | undefined)?.unref?.();
      try {
        return await wait(controller.signal);
      } finally {
        timers.clearTimeout(queueHandle);
        if (--waiting === 0 && !controller.signal.aborted) arm();
      }
    };
    queuedWaits.set(controller.signal, queued);
    arm();
    try {
      return await Promise.race([source({ signal: controller.signal, queued }), timeout]);
    } finally {
      timers.clearTimeout(timeoutHandle);
    }
  };

  const armTimer = (at: number) => {
    if (!proactive || closed || !Number.isFinite(at)) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    const delay = Math.min(Math.max(0, at - now()), MAX_TIMER_MS);
    timer = timers.setTimeout(onTimer, delay);
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };

  function onTimer() {
    timer = undefined;
    if (closed) return;
    const decision = decide(state, now(), windows, 'timer');
    if (decision.do === 'sleep') armTimer(decision.until);
    // Every outcome is handled inside refresh(); this catch only keeps the promise handled.
    else if (decision.do === 'refresh') refresh(decision.reason).catch(() => undefined);
  }

  const refresh = (reason: RefreshReason): Promise<AwsCredentialIdentity> => {
    const started = now();
    emit({ type: 'refresh-started', reason, at: started });
    state = { ...state, refreshing: true };
    const attempt = (async () => {
      try {
        let fresh: AwsCredentialIdentity;
        try {
          fresh = await callSource();
          validateIdentity(fresh, roleArn);
        } catch (error) {
          return onFailure(error, reason, started);
        }
        const t = now();
        const expiresAt = fresh.expiration ? fresh.expiration.getTime() : Number.POSITIVE_INFINITY;
        if (expiresAt <= t) {
          const stale = new CredentialsError(
            `credential source${roleArn ? ` for ${roleArn}` : ''} returned credentials that already expired`,
            { code: CredentialsErrorCode.INVALID_CREDENTIALS, retryable: true, roleArn },
          );
          return onFailure(stale, reason, started);
        }
        state = afterSuccess(state, expiresAt, t, windows, random);
        identity = Object.freeze({ ...fresh });
        rememberedError = undefined;
        lastRefreshAt = t;
        const cached = state.cached;
        emit({
          type: 'refresh-succeeded',
          reason,
          at: t,
          durationMs: t - started,
          expiration: fresh.expiration,
          advisoryWindowMs: cached?.advisoryWindowMs ?? 0,
        });
        if (cached && expiresAt !== Number.POSITIVE_INFINITY) armTimer(cached.proactiveAt);
        return identity;
      } finally {
        inflight = undefined;
        state = { ...state, refreshing: false };
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
    const backoffMs = jitter(backoffRange);
    const next = afterFailure(state, { recoverable, t, backoffMs, errorTtlMs: jitter(errorTtlRange) });
    state = next.state;
    switch (next.outcome) {
      case 'throw':
        rememberedError = error;
        // The timer must not hammer a source that refuses for good: it waits a whole backoff.
        if (reason === 'proactive') armTimer(t + backoffMs);
        throw error;
      case 'unavailable':
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
      case 'serve-stale':
        emit({ type: 'backoff', at: t, until: state.backoffUntil, backoffMs });
        armTimer(state.backoffUntil);
        return servedStale(t, 'refresh-failed');
    }
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
    // The hot path: one comparison, no allocation.
    const cached = state.cached;
    if (cached && t < cached.freshUntil && !state.invalidated) return identity as AwsCredentialIdentity;
    const decision = decide(state, t, windows, 'call');
    switch (decision.do) {
      case 'serve':
        return decision.stale ? servedStale(t, 'backoff') : (identity as AwsCredentialIdentity);
      case 'rethrow':
        throw rememberedError;
      case 'join':
        return decision.wait
          ? (inflight as Promise<AwsCredentialIdentity>)
          : (identity as AwsCredentialIdentity);
      case 'refresh':
        return refresh(decision.reason);
      default:
        return identity as AwsCredentialIdentity;
    }
  };

  const api = {
    memoized: true as const,
    invalidate(accessKeyId: string) {
      if (state.cached && identity?.accessKeyId === accessKeyId) state = { ...state, invalidated: true };
    },
    on(listener: CredentialEventListener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    status(): CredentialStatus {
      const t = now();
      const cached = state.cached;
      let phase: CredentialStatus['state'] = 'empty';
      if (cached) phase = state.invalidated ? 'mandatory' : phaseAt(cached, t, windows.mandatoryWindowMs);
      return {
        state: phase,
        expiration: identity?.expiration,
        advisoryWindowMs: cached?.advisoryWindowMs,
        lastRefreshAt: lastRefreshAt === undefined ? undefined : new Date(lastRefreshAt),
        lastError,
        backoffUntil: state.backoffUntil > t ? new Date(state.backoffUntil) : undefined,
        refreshing: inflight !== undefined,
        sourceCalls,
      };
    },
    releaseBackoff() {
      if (closed || state.backoffUntil <= now()) return;
      // No refresh here: each cache refreshes on its next use, so a recovered STS is not hit by
      // every cache of the principal at once.
      state = { ...state, backoffUntil: 0 };
      emit({ type: 'backoff-released', at: now() });
    },
    async probe(): Promise<boolean> {
      if (closed) return false;
      if (inflight)
        return inflight.then(
          () => state.backoffUntil === 0,
          () => false,
        );
      emit({ type: 'probe', at: now() });
      state = { ...state, backoffUntil: 0, errorUntil: 0 };
      try {
        await refresh('probe');
      } catch {
        return false;
      }
      return state.backoffUntil === 0 && state.errorUntil === 0;
    },
    retire() {
      proactive = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
    close() {
      closed = true;
      api.retire();
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
