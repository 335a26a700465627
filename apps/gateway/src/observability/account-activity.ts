/** One account's AWS calls over the recent window. */
export interface RecentActivity {
  calls: number;
  errors: number;
  /** The last failed call's code (the AWS error code, or the network error's) in the window. */
  lastErrorCode: string | undefined;
  lastErrorAt: Date | undefined;
}

/** Per-account counts of recent AWS calls, in fixed time buckets: memory stays bounded. */
export interface AccountActivity {
  readonly windowMs: number;
  record(accountId: string, outcome: { ok: true } | { ok: false; code: string }): void;
  recent(accountId: string): RecentActivity;
}

interface Bucket {
  start: number;
  calls: number;
  errors: number;
}

interface Track {
  buckets: Bucket[];
  lastError?: { code: string; at: number };
}

/**
 * A tracker of each account's AWS calls and errors over the last `windowMs`, in `bucketMs`
 * buckets (at most windowMs / bucketMs + 1 per account).
 *
 * @example
 * const activity = createAccountActivity({ now: Date.now });
 * activity.record('111111111111', { ok: false, code: 'ThrottlingException' });
 * activity.recent('111111111111'); // { calls: 1, errors: 1, lastErrorCode: 'ThrottlingException', ... }
 */
export function createAccountActivity(
  options: { now?: () => number; windowMs?: number; bucketMs?: number } = {},
): AccountActivity {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 5 * 60_000;
  const bucketMs = options.bucketMs ?? 10_000;
  for (const name of ['windowMs', 'bucketMs'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isFinite(value) || value <= 0))
      throw new TypeError(`createAccountActivity: ${name} must be a positive number, got ${String(value)}`);
  }
  const tracks = new Map<string, Track>();
  const prune = (track: Track, t: number) => {
    const oldest = t - windowMs;
    while (track.buckets.length > 0 && (track.buckets[0]?.start ?? 0) + bucketMs <= oldest)
      track.buckets.shift();
  };
  return {
    windowMs,
    record(accountId, outcome) {
      const t = now();
      let track = tracks.get(accountId);
      if (!track) {
        track = { buckets: [] };
        tracks.set(accountId, track);
      }
      prune(track, t);
      const start = t - (t % bucketMs);
      let bucket = track.buckets[track.buckets.length - 1];
      if (!bucket || bucket.start !== start) {
        bucket = { start, calls: 0, errors: 0 };
        track.buckets.push(bucket);
      }
      bucket.calls += 1;
      if (!outcome.ok) {
        bucket.errors += 1;
        track.lastError = { code: outcome.code, at: t };
      }
    },
    recent(accountId) {
      const t = now();
      const track = tracks.get(accountId);
      if (!track) return { calls: 0, errors: 0, lastErrorCode: undefined, lastErrorAt: undefined };
      prune(track, t);
      let calls = 0;
      let errors = 0;
      for (const b of track.buckets) {
        calls += b.calls;
        errors += b.errors;
      }
      const recentError = track.lastError && track.lastError.at > t - windowMs ? track.lastError : undefined;
      return {
        calls,
        errors,
        lastErrorCode: recentError?.code,
        lastErrorAt: recentError ? new Date(recentError.at) : undefined,
      };
    },
  };
}
