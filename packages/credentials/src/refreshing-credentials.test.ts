import type { AwsCredentialIdentity } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CredentialsError } from './errors.js';
import {
  advisoryWindowFor,
  type CredentialEvent,
  type CredentialSource,
  createRefreshingCredentials,
} from './refreshing-credentials.js';

const MIN = 60_000;

/** A manual clock and a source whose answers the test scripts. */
function harness(lifetimeMs = 60 * MIN, now?: () => number) {
  const clock = { t: 0 };
  const time = now ?? (() => clock.t);
  let issued = 0;
  const calls: number[] = [];
  let mode: 'fresh' | 'throttle' | 'deny' | 'hang' = 'fresh';
  const source: CredentialSource = async ({ signal }) => {
    calls.push(time());
    if (mode === 'throttle')
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: {} });
    if (mode === 'deny')
      throw Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    if (mode === 'hang') {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }
    issued++;
    return {
      accessKeyId: `ASIA${issued}`,
      secretAccessKey: `secret-${issued}`,
      sessionToken: `token-${issued}`,
      expiration: new Date(time() + lifetimeMs),
    };
  };
  return {
    clock,
    calls,
    source,
    setMode: (m: typeof mode) => {
      mode = m;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('advisoryWindowFor', () => {
  it.each([
    [15 * MIN, 5 * MIN],
    [20 * MIN, 5 * MIN],
    [20 * MIN + 1, 15 * MIN],
    [60 * MIN, 15 * MIN],
    [90 * MIN - 1, 15 * MIN],
    [90 * MIN, 60 * MIN],
    [12 * 60 * MIN, 60 * MIN],
  ])('lifetime %i ms → %i ms', (lifetime, window) => {
    expect(advisoryWindowFor(lifetime)).toBe(window);
  });
});

describe('createRefreshingCredentials', () => {
  it('is deferred: nothing is fetched until the first call', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    expect(h.calls).toHaveLength(0);
    expect(provider.status().state).toBe('empty');
    const creds = await provider();
    expect(creds.accessKeyId).toBe('ASIA1');
    expect(h.calls).toHaveLength(1);
    expect(provider.memoized).toBe(true);
  });

  it('10 000 concurrent callers at the moment of expiry cause exactly one source call', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    await provider();
    h.clock.t = 60 * MIN; // the instant of expiry
    const results = await Promise.all(Array.from({ length: 10_000 }, () => provider()));
    expect(h.calls).toHaveLength(2);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set(['ASIA2']));
  });

  it('10 000 concurrent first callers share one fetch', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    const results = await Promise.all(Array.from({ length: 10_000 }, () => provider()));
    expect(h.calls).toHaveLength(1);
    expect(results.every((c) => c.accessKeyId === 'ASIA1')).toBe(true);
  });

  it('in the advisory window one caller refreshes and the others get the current credentials at once', async () => {
    const h = harness();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    const provider = createRefreshingCredentials({
      source: async (ctx) => {
        if (!first) await gate;
        first = false;
        return h.source(ctx);
      },
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    await provider();
    h.clock.t = 50 * MIN; // 10 min left: inside the 15 min advisory window, outside mandatory
    const refreshing = provider();
    const others = await Promise.all(Array.from({ length: 100 }, () => provider()));
    expect(others.every((c) => c.accessKeyId === 'ASIA1')).toBe(true);
    release();
    expect((await refreshing).accessKeyId).toBe('ASIA2');
    expect(h.calls).toHaveLength(2);
  });

  it('in the mandatory window every caller waits for the one refresh', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    await provider();
    h.clock.t = 60 * MIN - 30_000;
    const results = await Promise.all(Array.from({ length: 50 }, () => provider()));
    expect(results.every((c) => c.accessKeyId === 'ASIA2')).toBe(true);
    expect(h.calls).toHaveLength(2);
  });

  it('serves expired credentials through an outage, backs off, and recovers', async () => {
    const h = harness();
    const events: CredentialEvent[] = [];
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      random: () => 0,
      proactiveRefresh: false,
      onEvent: (e) => events.push(e),
    });
    await provider();
    h.setMode('throttle');
    h.clock.t = 61 * MIN; // expired
    expect((await provider()).accessKeyId).toBe('ASIA1');
    expect(h.calls).toHaveLength(2);
    // backoff = 300 s with random() = 0: no source call inside it
    h.clock.t += 299_000;
    for (let i = 0; i < 100; i++) expect((await provider()).accessKeyId).toBe('ASIA1');
    expect(h.calls).toHaveLength(2);
    h.setMode('fresh');
    h.clock.t += 2_000;
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(h.calls).toHaveLength(3);
    const types = events.map((e) => e.type);
    expect(types).toContain('backoff');
    expect(types).toContain('served-stale');
    expect(events.find((e) => e.type === 'served-stale')).toMatchObject({
      expired: true,
      cause: 'refresh-failed',
    });
    // lastError is history: it keeps the outage's error, with its time, after recovery.
    expect(provider.status().lastError).toMatchObject({
      code: 'Throttling',
      recoverable: true,
      at: new Date(61 * MIN),
    });
  });

  it('draws the backoff uniformly from 300..600 s by default', async () => {
    for (const [random, expected] of [
      [0, 300_000],
      [0.5, 450_000],
      [0.999, 599_700],
    ] as const) {
      const h = harness();
      const backoffs: number[] = [];
      const provider = createRefreshingCredentials({
        source: h.source,
        now: () => h.clock.t,
        random: () => random,
        proactiveRefresh: false,
        onEvent: (e) => {
          if (e.type === 'backoff') backoffs.push(e.backoffMs);
        },
      });
      await provider();
      h.setMode('throttle');
      h.clock.t = 61 * MIN;
      await provider();
      expect(backoffs).toEqual([expected]);
    }
  });

  it('with nothing cached a recoverable failure is a typed CREDENTIALS_UNAVAILABLE error', async () => {
    const h = harness();
    h.setMode('throttle');
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
      roleArn: 'arn:aws:iam::123456789012:role/Reader',
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({
      code: 'CREDENTIALS_UNAVAILABLE',
      retryable: true,
      roleArn: 'arn:aws:iam::123456789012:role/Reader',
      accountId: '123456789012',
    });
    expect((error as Error).message).toContain('arn:aws:iam::123456789012:role/Reader');
  });

  it('a source that never answers times out as a recoverable failure', async () => {
    vi.useFakeTimers();
    const h = harness();
    h.setMode('hang');
    const provider = createRefreshingCredentials({
      source: h.source,
      sourceTimeoutMs: 1_000,
      proactiveRefresh: false,
    });
    const pending = provider().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    const error = (await pending) as CredentialsError;
    expect(error.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect((error.cause as CredentialsError).code).toBe('SOURCE_TIMEOUT');
  });

  it('rejects a source answer without a key, secret or valid expiration', async () => {
    const provider = createRefreshingCredentials({
      source: async () => ({ accessKeyId: '', secretAccessKey: 'x' }) as AwsCredentialIdentity,
      proactiveRefresh: false,
    });
    const error = (await provider().catch((e: unknown) => e)) as CredentialsError;
    expect(error.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect((error.cause as CredentialsError).code).toBe('INVALID_CREDENTIALS');
  });

  it('a source answering with credentials already due for refresh is not called in a loop', async () => {
    vi.useFakeTimers({ now: 0 });
    let calls = 0;
    // Every answer expires at 10 min: from minute 5 on they are inside the advisory window.
    const provider = createRefreshingCredentials({
      source: async () => {
        calls++;
        return { accessKeyId: `A${calls}`, secretAccessKey: 's', expiration: new Date(10 * MIN) };
      },
      now: () => Date.now(),
      random: () => 0,
    });
    await provider();
    await vi.advanceTimersByTimeAsync(6 * MIN);
    for (let i = 0; i < 1000; i++) await provider();
    // the timer just before minute 5, then at most one call per 10 s: no tight loop
    expect(calls).toBeLessThanOrEqual(3 + 6);
    provider.close();
  });

  it('credentials without expiration are cached forever', async () => {
    let calls = 0;
    const provider = createRefreshingCredentials({
      source: async () => {
        calls++;
        return { accessKeyId: 'AKIA', secretAccessKey: 's' };
      },
    });
    await provider();
    await provider();
    expect(calls).toBe(1);
    expect(provider.status().state).toBe('fresh');
  });

  it('proactively refreshes just before the advisory window, so callers never wait', async () => {
    vi.useFakeTimers({ now: 0 });
    const h = harness(60 * MIN, () => Date.now());
    const events: CredentialEvent[] = [];
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => Date.now(),
      random: () => 0,
      onEvent: (e) => events.push(e),
    });
    await provider();
    // 1 h credentials: 15 min window; the timer leads it by half of min(window / 10, 30 s) with random() = 0.
    const lead = 15_000;
    await vi.advanceTimersByTimeAsync(45 * MIN - lead - 1);
    expect(h.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.calls).toHaveLength(2);
    // The refresh happened while the old credentials were still fresh: nobody was in the window.
    expect(provider.status().state).toBe('fresh');
    expect(
      events.filter((e) => e.type === 'refresh-started').map((e) => e.type === 'refresh-started' && e.reason),
    ).toEqual(['initial', 'proactive']);
    // Three more lifetimes: exactly one refresh each, and every caller is served from cache.
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(45 * MIN);
      const before = h.calls.length;
      await provider();
      expect(h.calls.length).toBe(before);
    }
    expect(h.calls).toHaveLength(5);
    provider.close();
  });

  it('proactive refresh failure backs off, keeps serving, and retries after the backoff', async () => {
    vi.useFakeTimers({ now: 0 });
    const h = harness(60 * MIN, () => Date.now());
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const provider = createRefreshingCredentials({
        source: h.source,
        now: () => Date.now(),
        random: () => 0,
      });
      await provider();
      h.setMode('throttle');
      const lead = 15_000; // see the test above
      await vi.advanceTimersByTimeAsync(45 * MIN - lead);
      expect(h.calls).toHaveLength(2);
      expect(provider.status().backoffUntil?.getTime()).toBe(50 * MIN - lead);
      expect((await provider()).accessKeyId).toBe('ASIA1');
      h.setMode('fresh');
      await vi.advanceTimersByTimeAsync(5 * MIN);
      expect(h.calls).toHaveLength(3);
      expect((await provider()).accessKeyId).toBe('ASIA2');
      // A non-recoverable proactive failure must not reject unhandled either.
      // Non-recoverable proactive failures retry once per backoff (300 s here), not in a loop.
      h.setMode('deny');
      await vi.advanceTimersByTimeAsync(45 * MIN);
      expect(h.calls).toHaveLength(4);
      await vi.advanceTimersByTimeAsync(300_000);
      expect(h.calls).toHaveLength(5);
      provider.close();
      vi.useRealTimers();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('proactive timers are unref’d and stop on close', async () => {
    const handles: Array<{ unref: () => void; unrefd: boolean }> = [];
    let cleared = 0;
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      timers: {
        setTimeout: () => {
          const handle = {
            unrefd: false,
            unref() {
              handle.unrefd = true;
            },
          };
          handles.push(handle);
          return handle;
        },
        clearTimeout: () => {
          cleared++;
        },
      },
    });
    await provider();
    expect(handles.length).toBeGreaterThanOrEqual(2); // source timeout + proactive timer
    expect(handles.every((x) => x.unrefd)).toBe(true);
    const before = cleared;
    provider.close();
    expect(cleared).toBe(before + 1);
    await expect(provider()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('invalidate of the cached key forces a blocking refresh; a stale key changes nothing', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
    });
    await provider();
    provider.invalidate('ASIA-someone-else');
    expect((await provider()).accessKeyId).toBe('ASIA1');
    provider.invalidate('ASIA1');
    expect(provider.status().state).toBe('mandatory');
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(h.calls).toHaveLength(2);
  });

  it('a listener that throws does not break resolution', async () => {
    const h = harness();
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
      onEvent: () => {
        throw new Error('bad listener');
      },
    });
    expect((await provider()).accessKeyId).toBe('ASIA1');
  });

  it('status and events carry no key material', async () => {
    const h = harness();
    const events: CredentialEvent[] = [];
    const provider = createRefreshingCredentials({
      source: h.source,
      now: () => h.clock.t,
      proactiveRefresh: false,
      onEvent: (e) => events.push(e),
    });
    await provider();
    const text = JSON.stringify([provider.status(), events]);
    expect(text).not.toContain('ASIA1');
    expect(text).not.toContain('secret-1');
    expect(text).not.toContain('token-1');
  });

  it('refuses bad options with a TypeError naming the option', () => {
    const source = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(() => createRefreshingCredentials({} as never)).toThrow(/source must be a function/);
    expect(() => createRefreshingCredentials({ source, mandatoryWindowMs: -1 })).toThrow(/mandatoryWindowMs/);
    expect(() => createRefreshingCredentials({ source, advisoryWindowMs: Number.NaN })).toThrow(
      /advisoryWindowMs/,
    );
    expect(() => createRefreshingCredentials({ source, refreshBackoff: { minMs: 10, maxMs: 1 } })).toThrow(
      /refreshBackoff/,
    );
    expect(() =>
      createRefreshingCredentials({ source, nonRecoverableErrorTtl: { minMs: -1, maxMs: 1 } }),
    ).toThrow(/nonRecoverableErrorTtl/);
  });
});
