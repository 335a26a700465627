import { describe, expect, it } from 'vitest';
import { checkTokenBucketSpec, createMemoryBucketStore, msUntilToken } from './token-bucket.js';

const EC2 = { burst: 100, refillPerSecond: 20 };

describe('createMemoryBucketStore', () => {
  it('a new bucket is full: burst tokens at once, then the ms until the next refill', () => {
    const store = createMemoryBucketStore();
    const t0 = 1_000_000;
    const answers = Array.from({ length: 101 }, () => store.take('k', EC2, t0));
    expect(answers.slice(0, 100).every((ms) => ms === 0)).toBe(true);
    // Empty: one token comes back after 1/20 s.
    expect(answers[100]).toBe(50);
    // Nothing was taken by the refused call: 50 ms later exactly one token is there.
    expect(store.take('k', EC2, t0 + 49)).toBe(1);
    expect(store.take('k', EC2, t0 + 50)).toBe(0);
    expect(store.take('k', EC2, t0 + 50)).toBe(50);
  });

  it('refills at refillPerSecond and never above burst', () => {
    const store = createMemoryBucketStore();
    const spec = { burst: 5, refillPerSecond: 2 };
    for (let i = 0; i < 5; i++) expect(store.take('k', spec, 0)).toBe(0);
    expect(store.take('k', spec, 0)).toBe(500);
    // 1.5 s: 3 tokens.
    expect([0, 0, 0].map(() => store.take('k', spec, 1500))).toEqual([0, 0, 0]);
    expect(store.take('k', spec, 1500)).toBe(500);
    // An hour later: still only 5.
    const later = 3_600_000;
    const taken = Array.from({ length: 6 }, () => store.take('k', spec, later)).filter((ms) => ms === 0);
    expect(taken).toHaveLength(5);
  });

  it('fractional rates (AWS publishes 0.1/s) wait whole seconds', () => {
    const store = createMemoryBucketStore();
    const spec = { burst: 1, refillPerSecond: 0.1 };
    expect(store.take('k', spec, 0)).toBe(0);
    expect(store.take('k', spec, 0)).toBe(10_000);
    expect(store.take('k', spec, 4_000)).toBe(6_000);
    expect(store.take('k', spec, 10_000)).toBe(0);
  });

  it('drain empties one bucket only; the others keep their tokens', () => {
    const store = createMemoryBucketStore();
    store.take('a', EC2, 0);
    store.drain('a', EC2, 0);
    expect(store.take('a', EC2, 0)).toBe(50);
    expect(store.take('b', EC2, 0)).toBe(0);
    expect(store.take('a', EC2, 50)).toBe(0);
  });

  it('a clock that goes backwards adds no tokens', () => {
    const store = createMemoryBucketStore();
    const spec = { burst: 1, refillPerSecond: 1 };
    expect(store.take('k', spec, 10_000)).toBe(0);
    expect(store.take('k', spec, 5_000)).toBe(1000);
    expect(store.take('k', spec, 10_999)).toBe(1);
    expect(store.take('k', spec, 11_000)).toBe(0);
  });

  it('forgets buckets that refilled completely, so memory follows the buckets in use', () => {
    const store = createMemoryBucketStore();
    const spec = { burst: 2, refillPerSecond: 1 };
    for (let i = 0; i < 5000; i++) store.take(`old-${i}`, spec, 0);
    expect(store.size).toBe(5000);
    // Two seconds later every old bucket is full again; enough takes trigger a sweep.
    for (let i = 0; i < 5000; i++) store.take('busy', spec, 2_000 + i);
    expect(store.size).toBeLessThan(10);
    // A forgotten bucket starts full, exactly as the remembered one would have been.
    expect([store.take('old-1', spec, 10_000), store.take('old-1', spec, 10_000)]).toEqual([0, 0]);
  });
});

describe('checkTokenBucketSpec', () => {
  it('names the option and the bad value', () => {
    expect(() => checkTokenBucketSpec({ burst: 0, refillPerSecond: 1 }, 'limits.aws.sts')).toThrow(
      /limits\.aws\.sts must be .*got \{"burst":0,"refillPerSecond":1\}/,
    );
    expect(() => checkTokenBucketSpec({ burst: 1.5, refillPerSecond: 1 }, 'x')).toThrow(TypeError);
    expect(() => checkTokenBucketSpec({ burst: 1, refillPerSecond: 0 }, 'x')).toThrow(TypeError);
    expect(() => checkTokenBucketSpec({ burst: 1, refillPerSecond: Number.NaN }, 'x')).toThrow(TypeError);
    expect(() => checkTokenBucketSpec(null as never, 'x')).toThrow(TypeError);
    expect(checkTokenBucketSpec({ burst: 1, refillPerSecond: 0.5 }, 'x')).toEqual({
      burst: 1,
      refillPerSecond: 0.5,
    });
  });

  it('msUntilToken is at least 1 ms', () => {
    expect(msUntilToken(0.99999, { burst: 1, refillPerSecond: 1000 })).toBe(1);
    expect(msUntilToken(0, { burst: 1, refillPerSecond: 20 })).toBe(50);
  });
});
