import { awsError, createFakeSession as fakeSession } from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { AdapterErrorCode } from './errors.js';
import { createRegionCache } from './region-cache.js';

const regionsAnswer = {
  Regions: [
    { RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' },
    { RegionName: 'af-south-1', OptInStatus: 'opted-in' },
    { RegionName: 'eu-west-1', OptInStatus: 'opt-in-not-required' },
  ],
};

describe('createRegionCache', () => {
  it('caches an account’s regions for ttlMs', async () => {
    let time = 0;
    const { session, calls } = fakeSession(() => regionsAnswer);
    const cache = createRegionCache({ ttlMs: 1000, now: () => time });
    expect(await cache.enabledRegions(session)).toEqual(['af-south-1', 'eu-west-1', 'us-east-1']);
    time = 999;
    await cache.enabledRegions(session);
    expect(calls).toHaveLength(1);
    time = 1000;
    await cache.enabledRegions(session);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      operation: 'DescribeRegions',
      region: 'us-east-1',
      input: { AllRegions: false },
    });
  });

  it('shares one call between concurrent callers and keeps accounts apart', async () => {
    const a = fakeSession(() => new Promise((resolve) => setTimeout(() => resolve(regionsAnswer), 10)), {
      accountId: '111111111111',
    });
    const b = fakeSession(() => regionsAnswer, { accountId: '222222222222' });
    const cache = createRegionCache();
    await Promise.all([
      cache.enabledRegions(a.session),
      cache.enabledRegions(a.session),
      cache.enabledRegions(a.session),
      cache.enabledRegions(b.session),
    ]);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
  });

  it('does not cache failures', async () => {
    let fail = true;
    const { session, calls } = fakeSession(() => {
      if (fail) throw awsError('InternalError', 500);
      return regionsAnswer;
    });
    const cache = createRegionCache();
    await expect(cache.enabledRegions(session)).rejects.toMatchObject({
      code: AdapterErrorCode.AWS_UNAVAILABLE,
      retryable: true,
    });
    fail = false;
    expect(await cache.enabledRegions(session)).toHaveLength(3);
    expect(calls).toHaveLength(2);
  });

  it('cancels the shared call only when every waiting caller aborted', async () => {
    const { session, calls } = fakeSession(
      (call) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve(regionsAnswer), 20);
          call.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          });
        }),
    );
    const cache = createRegionCache();
    const first = new AbortController();
    const one = cache.enabledRegions(session, { signal: first.signal });
    const two = cache.enabledRegions(session);
    first.abort();
    await expect(one).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    expect(await two).toHaveLength(3);
    expect(calls[0]?.signal?.aborted).toBe(false);

    const lonely = fakeSession(
      (call) =>
        new Promise((_, reject) => call.signal?.addEventListener('abort', () => reject(new Error('gone')))),
      { accountId: '999999999999' },
    );
    const solo = new AbortController();
    const pending = cache.enabledRegions(lonely.session, { signal: solo.signal });
    await new Promise((r) => setTimeout(r, 1));
    solo.abort();
    await expect(pending).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    expect(lonely.calls[0]?.signal?.aborted).toBe(true);
  });

  it('rejects a bad ttlMs', () => {
    expect(() => createRegionCache({ ttlMs: -1 })).toThrow(/ttlMs/);
  });
});
