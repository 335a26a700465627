/**
 * AWS's consistent credential refresh rules as pure functions over a plain state: what to do
 * when a caller asks or the proactive timer fires (`decide`), and the state after a source
 * call (`afterSuccess`, `afterFailure`). `createRefreshingCredentials` is the thin shell that
 * holds the credentials, calls the source and arms the timer; the conformance vectors drive
 * these functions directly as well as through the shell.
 */

/** Why a refresh was started. */
export type RefreshReason =
  | 'initial'
  | 'advisory'
  | 'mandatory'
  | 'expired'
  | 'invalidated'
  | 'proactive'
  | 'probe';

/** Where the cached credentials stand, measured back from their expiration. */
export type Phase = 'fresh' | 'advisory' | 'mandatory' | 'expired';

/** The timing of one cached credential set (never the key material itself). */
export interface CachedTiming {
  expiresAt: number;
  advisoryWindowMs: number;
  /** Before this instant the credentials are fresh: the hot path compares against it only. */
  freshUntil: number;
  /** When the proactive timer refreshes: a little before `freshUntil`, so no caller gets there first. */
  proactiveAt: number;
}

/** Everything the rules look at. */
export interface RefreshState {
  cached: CachedTiming | undefined;
  /** A service rejected the cached key: the next call takes the mandatory path. */
  invalidated: boolean;
  /** After a recoverable failure the source is left alone until then (0: no backoff). */
  backoffUntil: number;
  /** After a non-recoverable failure it is re-raised without calling the source until then. */
  errorUntil: number;
  /** A source call is in flight. */
  refreshing: boolean;
}

/** The windows the rules are configured with. */
export interface RefreshWindows {
  mandatoryWindowMs: number;
  /** A fixed advisory window, or `undefined` to choose one from the lifetime. */
  advisoryWindowMs: number | undefined;
}

/**
 * What to do now.
 * - `serve`: hand out the cached credentials; `stale` when the source is in backoff.
 * - `rethrow`: re-raise the remembered non-recoverable error.
 * - `refresh`: call the source; `wait` false means callers keep the cached credentials meanwhile.
 * - `join`: a refresh is running; `wait` as for `refresh`.
 * - `sleep`: (timer only) nothing to do before `until`.
 */
export type Decision =
  | { do: 'serve'; stale: boolean }
  | { do: 'rethrow' }
  | { do: 'refresh'; reason: RefreshReason; wait: boolean }
  | { do: 'join'; wait: boolean }
  | { do: 'sleep'; until: number };

export const EMPTY_STATE: RefreshState = Object.freeze({
  cached: undefined,
  invalidated: false,
  backoffUntil: 0,
  errorUntil: 0,
  refreshing: false,
});

const MINUTE = 60_000;

/**
 * A source may hand back credentials that are already due for refresh (short-lived, or an
 * upstream cache near its own expiry). They are used as fresh for at least this long, so
 * neither callers nor the proactive timer call the source in a tight loop.
 */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

/**
 * The advisory window AWS's consistent-refresh specification picks for a credential
 * lifetime: <= 20 min: 5 min; > 20 and < 90 min: 15 min; >= 90 min: 60 min.
 */
export function advisoryWindowFor(lifetimeMs: number): number {
  if (lifetimeMs <= 20 * MINUTE) return 5 * MINUTE;
  if (lifetimeMs < 90 * MINUTE) return 15 * MINUTE;
  return 60 * MINUTE;
}

export function phaseAt(cached: CachedTiming, t: number, mandatoryWindowMs: number): Phase {
  const remaining = cached.expiresAt - t;
  if (remaining <= 0) return 'expired';
  if (remaining <= mandatoryWindowMs) return 'mandatory';
  if (remaining <= cached.advisoryWindowMs) return 'advisory';
  return 'fresh';
}

/** Until when the source may not be called, and why; the one answer both callers and the timer use. */
function blocked(state: RefreshState, t: number): { why: 'error' | 'backoff'; until: number } | undefined {
  if (state.errorUntil > t) return { why: 'error', until: state.errorUntil };
  if (state.cached && state.backoffUntil > t) return { why: 'backoff', until: state.backoffUntil };
  return undefined;
}

/**
 * The refresh decision. `trigger` is `call` for a caller asking for credentials and `timer`
 * for the proactive timer, which never waits and never makes anyone wait.
 *
 * @example
 * decide({ ...EMPTY_STATE }, 0, windows, 'call'); // { do: 'refresh', reason: 'initial', wait: true }
 */
export function decide(
  state: RefreshState,
  t: number,
  windows: RefreshWindows,
  trigger: 'call' | 'timer',
): Decision {
  const { cached, invalidated, refreshing } = state;
  if (trigger === 'timer') {
    if (refreshing || !cached) return { do: 'sleep', until: Number.POSITIVE_INFINITY };
    if (t < cached.proactiveAt && !invalidated) return { do: 'sleep', until: cached.proactiveAt };
    const stop = blocked(state, t);
    if (stop) return { do: 'sleep', until: stop.until };
    return { do: 'refresh', reason: 'proactive', wait: false };
  }
  if (cached && t < cached.freshUntil && !invalidated) return { do: 'serve', stale: false };
  const stop = blocked(state, t);
  if (stop?.why === 'error') return { do: 'rethrow' };
  if (!cached)
    return refreshing ? { do: 'join', wait: true } : { do: 'refresh', reason: 'initial', wait: true };
  if (stop) return { do: 'serve', stale: true };
  const phase = invalidated ? 'mandatory' : phaseAt(cached, t, windows.mandatoryWindowMs);
  // Inside the advisory window one caller refreshes; everyone else keeps the current credentials.
  if (phase === 'advisory' || phase === 'fresh') {
    return refreshing ? { do: 'join', wait: false } : { do: 'refresh', reason: 'advisory', wait: true };
  }
  if (refreshing) return { do: 'join', wait: true };
  return { do: 'refresh', reason: invalidated ? 'invalidated' : phase, wait: true };
}

/** The timing of credentials that expire at `expiresAt`, received at `t`. */
export function timingFor(
  expiresAt: number,
  t: number,
  windows: RefreshWindows,
  random: () => number,
): CachedTiming {
  const advisoryWindowMs = windows.advisoryWindowMs ?? advisoryWindowFor(expiresAt - t);
  const freshUntil = Math.max(
    expiresAt - Math.max(advisoryWindowMs, windows.mandatoryWindowMs),
    Math.min(t + MIN_REFRESH_INTERVAL_MS, expiresAt),
  );
  // Lead the window by up to a tenth of it (at most 30 s), jittered so that many sessions
  // issued together do not refresh together.
  const lead = Math.min((expiresAt - freshUntil) / 10, 30_000) * (0.5 + 0.5 * random());
  const proactiveAt = Math.max(freshUntil - lead, Math.min(t + MIN_REFRESH_INTERVAL_MS, freshUntil));
  return { expiresAt, advisoryWindowMs, freshUntil, proactiveAt };
}

/** The state after the source answered with credentials expiring at `expiresAt`. */
export function afterSuccess(
  state: RefreshState,
  expiresAt: number,
  t: number,
  windows: RefreshWindows,
  random: () => number,
): RefreshState {
  return {
    ...state,
    cached: timingFor(expiresAt, t, windows, random),
    invalidated: false,
    backoffUntil: 0,
    errorUntil: 0,
    refreshing: false,
  };
}

/**
 * The state after the source failed, and what the waiting callers get:
 * `throw` the error (non-recoverable), `unavailable` (recoverable, nothing cached), or
 * `serve-stale` (recoverable: the cached credentials, and a backoff of `backoffMs`).
 */
export function afterFailure(
  state: RefreshState,
  failure: { recoverable: boolean; t: number; backoffMs: number; errorTtlMs: number },
): { state: RefreshState; outcome: 'throw' | 'unavailable' | 'serve-stale' } {
  const { recoverable, t } = failure;
  if (!recoverable) {
    return { state: { ...state, refreshing: false, errorUntil: t + failure.errorTtlMs }, outcome: 'throw' };
  }
  if (!state.cached) return { state: { ...state, refreshing: false }, outcome: 'unavailable' };
  return {
    state: { ...state, refreshing: false, backoffUntil: t + failure.backoffMs },
    outcome: 'serve-stale',
  };
}
