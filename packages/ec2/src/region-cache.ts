import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Session } from '@rolegraph/credentials';
import { type AwsRateLimiter, callAws, toAwsCallError } from '@rolegraph/credentials/aws';
import { callContext } from './context.js';

export interface RegionCacheOptions {
  /**
   * How long an account's list of enabled regions is reused.
   * @default 3_600_000 (1 hour)
   */
  ttlMs?: number;
  /** The clock; inject a fake one in tests. @default Date.now */
  now?: () => number;
  /**
   * The region `DescribeRegions` is sent to.
   * @default 'us-east-1'
   */
  region?: string;
  /** The process-wide rate limiter `DescribeRegions` waits on. @default no limit */
  limits?: AwsRateLimiter;
}

export interface RegionCache {
  /**
   * The regions enabled in the session's account (opted in or not requiring opt-in), sorted.
   * Concurrent callers for one account share one `DescribeRegions` call.
   *
   * @example
   * const regions = await regionCache.enabledRegions(session, { signal });
   */
  enabledRegions(session: Session, options?: { signal?: AbortSignal }): Promise<string[]>;
}

const OPERATION = 'DescribeRegions';

interface Entry {
  regions: string[];
  expiresAt: number;
}

interface InFlight {
  promise: Promise<string[]>;
  controller: AbortController;
  waiters: number;
}

/** Reject when `signal` fires, without cancelling the shared work behind `promise`. */
function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => Error,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

/**
 * A process-wide cache of each account's enabled regions (`DescribeRegions`), kept for
 * `ttlMs`. Unlike the loaders it may be shared across requests: it holds no per-caller state,
 * and the shared call is only cancelled when every caller waiting on it has aborted.
 *
 * @example
 * const regionCache = createRegionCache({ ttlMs: 10 * 60_000 });
 * for (const region of await regionCache.enabledRegions(session)) { ... }
 */
export function createRegionCache(options: RegionCacheOptions = {}): RegionCache {
  const ttlMs = options.ttlMs ?? 3_600_000;
  if (!Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new TypeError(
      `createRegionCache: ttlMs must be a non-negative number, got ${String(options.ttlMs)}`,
    );
  }
  const now = options.now ?? Date.now;
  const callRegion = options.region ?? 'us-east-1';
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, InFlight>();

  const fetchRegions = async (session: Session, signal: AbortSignal): Promise<string[]> => {
    const input = { AllRegions: false };
    const output = await callAws(
      callContext({ session, signal, limits: options.limits }, callRegion),
      { operation: OPERATION, input },
      (s) =>
        session.client(EC2Client, callRegion).send(new DescribeRegionsCommand(input), { abortSignal: s }),
    );
    return (output.Regions ?? [])
      .filter((r) => r.OptInStatus === undefined || r.OptInStatus !== 'not-opted-in')
      .map((r) => r.RegionName)
      .filter((name): name is string => typeof name === 'string')
      .sort();
  };

  return {
    async enabledRegions(session, callOptions = {}) {
      const { signal } = callOptions;
      const key = session.accountId;
      // The caller's abort, as callAws reports it: the shared call may go on for others.
      const aborted = () =>
        toAwsCallError(signal?.reason, callContext({ session, signal }, callRegion), OPERATION);
      if (signal?.aborted) throw aborted();
      const cached = entries.get(key);
      if (cached && cached.expiresAt > now()) return [...cached.regions];

      let flight = inFlight.get(key);
      if (!flight) {
        const controller = new AbortController();
        // Failures are not cached: the next caller tries again.
        const promise = fetchRegions(session, controller.signal).then((regions) => {
          entries.set(key, { regions, expiresAt: now() + ttlMs });
          return regions;
        });
        const created: InFlight = { promise, controller, waiters: 0 };
        const settle = () => {
          if (inFlight.get(key) === created) inFlight.delete(key);
        };
        promise.then(settle, settle);
        inFlight.set(key, created);
        flight = created;
      }
      const shared = flight;
      shared.waiters++;
      const regions = await raceAbort(shared.promise, signal, () => {
        shared.waiters--;
        if (shared.waiters === 0) {
          shared.controller.abort();
          if (inFlight.get(key) === shared) inFlight.delete(key);
        }
        return aborted();
      });
      return [...regions];
    },
  };
}
