import { describe, expect, it } from 'vitest';
import { createAccountActivity } from './account-activity.js';

describe('createAccountActivity', () => {
  it('counts calls and errors per account over the window, and forgets what is older', () => {
    let t = 1_000_000;
    const activity = createAccountActivity({ now: () => t, windowMs: 60_000, bucketMs: 10_000 });
    activity.record('a', { ok: true });
    activity.record('a', { ok: false, code: 'ThrottlingException' });
    activity.record('b', { ok: true });
    expect(activity.recent('a')).toEqual({
      calls: 2,
      errors: 1,
      lastErrorCode: 'ThrottlingException',
      lastErrorAt: new Date(1_000_000),
    });
    expect(activity.recent('b')).toMatchObject({ calls: 1, errors: 0, lastErrorCode: undefined });
    t += 30_000;
    activity.record('a', { ok: true });
    expect(activity.recent('a')).toMatchObject({ calls: 3, errors: 1 });
    t += 45_000; // the first bucket is now past the window, the second is not
    expect(activity.recent('a')).toEqual({
      calls: 1,
      errors: 0,
      lastErrorCode: undefined,
      lastErrorAt: undefined,
    });
    expect(activity.recent('never')).toEqual({
      calls: 0,
      errors: 0,
      lastErrorCode: undefined,
      lastErrorAt: undefined,
    });
  });

  it('refuses a window that is not positive, naming the option', () => {
    expect(() => createAccountActivity({ windowMs: 0 })).toThrow(/windowMs must be a positive number, got 0/);
  });
});
