import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AWS_RATE_LIMITS,
  classifyAwsCall,
  isUnfilteredUnpaginated,
  type RateLimitedCall,
  resolveAwsRateLimits,
} from './aws-rate-limits.js';
import { createAwsRateLimiter } from './rate-limiter.js';
import { type BucketStore, createMemoryBucketStore } from './token-bucket.js';

const ACCOUNT = '111111111111';
const call = (over: Partial<RateLimitedCall> = {}): RateLimitedCall => ({
  service: 'ec2',
  accountId: ACCOUNT,
  region: 'us-east-1',
  operation: 'DescribeInstances',
  input: { MaxResults: 1000 },
  ...over,
});

describe('classifyAwsCall: AWS classes, as far as rolegraph calls go', () => {
  const limits = AWS_RATE_LIMITS;

  it('EC2 Describe* with a filter, ids or pagination: the 100/20 bucket of that action in that account and region', () => {
    for (const input of [
      { MaxResults: 1000 },
      { NextToken: 'x' },
      { Filters: [{ Name: 'instance-id', Values: ['i-1'] }], MaxResults: 1000 },
      { InstanceIds: ['i-0123456789abcdef0'] },
    ]) {
      expect(classifyAwsCall(call({ input }), limits)).toEqual({
        key: `ec2:${ACCOUNT}:us-east-1:DescribeInstances`,
        spec: { burst: 100, refillPerSecond: 20 },
        bucketClass: 'ec2.nonMutating',
      });
    }
    // Each action its own bucket ("each API is evaluated individually").
    expect(
      classifyAwsCall(call({ operation: 'DescribeRegions', input: { AllRegions: false } }), limits)?.key,
    ).toBe(`ec2:${ACCOUNT}:us-east-1:DescribeRegions`);
  });

  it('unfiltered and unpaginated DescribeInstances / SecurityGroups / Volumes: a 50/10 bucket of their own', () => {
    for (const operation of ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeVolumes']) {
      for (const input of [{}, { Filters: [] }, { InstanceIds: [] }, { DryRun: false }]) {
        expect(classifyAwsCall(call({ operation, input }), limits)).toEqual({
          key: `ec2:${ACCOUNT}:us-east-1:${operation}:unfiltered`,
          spec: { burst: 50, refillPerSecond: 10 },
          bucketClass: 'ec2.unfilteredUnpaginated',
        });
      }
    }
    // DescribeRegions is not in AWS's list: unfiltered, it stays in the standard class.
    expect(classifyAwsCall(call({ operation: 'DescribeRegions', input: {} }), limits)?.bucketClass).toBe(
      'ec2.nonMutating',
    );
    expect(isUnfilteredUnpaginated({ GroupIds: ['sg-1'] })).toBe(false);
  });

  it('mutating EC2 actions: 50/5; other accounts and regions: other buckets', () => {
    expect(classifyAwsCall(call({ operation: 'CreateTags', input: {} }), limits)?.spec).toEqual({
      burst: 50,
      refillPerSecond: 5,
    });
    const a = classifyAwsCall(call(), limits)?.key;
    expect(classifyAwsCall(call({ accountId: '222222222222' }), limits)?.key).not.toBe(a);
    expect(classifyAwsCall(call({ region: 'eu-west-1' }), limits)?.key).not.toBe(a);
  });

  it('STS per principal and region; Organizations per account; S3 unmetered unless configured', () => {
    expect(
      classifyAwsCall(
        call({ service: 'sts', operation: 'AssumeRole', principal: 'arn:aws:iam::000000000000:role/Hub' }),
        limits,
      ),
    ).toEqual({
      key: 'sts:arn:aws:iam::000000000000:role/Hub:us-east-1',
      spec: { burst: 600, refillPerSecond: 600 },
      bucketClass: 'sts',
    });
    expect(classifyAwsCall(call({ service: 'sts', operation: 'GetCallerIdentity' }), limits)?.key).toBe(
      `sts:${ACCOUNT}:us-east-1`,
    );
    expect(classifyAwsCall(call({ service: 'organizations', operation: 'ListAccounts' }), limits)).toEqual({
      key: `organizations:${ACCOUNT}`,
      spec: { burst: 20, refillPerSecond: 10 },
      bucketClass: 'organizations',
    });
    expect(classifyAwsCall(call({ service: 's3', operation: 'ListBuckets' }), limits)).toBeUndefined();
    const withS3 = resolveAwsRateLimits({ s3: { burst: 5500, refillPerSecond: 5500 } });
    expect(classifyAwsCall(call({ service: 's3', operation: 'ListBuckets' }), withS3)?.key).toBe(
      `s3:${ACCOUNT}:us-east-1:ListBuckets`,
    );
    expect(classifyAwsCall(call({ service: 'lambda' }), limits)).toBeUndefined();
  });

  it('overrides per class keep the other defaults; false unmeters a class; bad specs are TypeErrors', () => {
    const limits2 = resolveAwsRateLimits({
      ec2: { nonMutating: { burst: 300, refillPerSecond: 60 } },
      sts: false,
    });
    expect(limits2.ec2.nonMutating).toEqual({ burst: 300, refillPerSecond: 60 });
    expect(limits2.ec2.unfilteredUnpaginated).toEqual({ burst: 50, refillPerSecond: 10 });
    expect(classifyAwsCall(call({ service: 'sts' }), limits2)).toBeUndefined();
    expect(() => resolveAwsRateLimits({ ec2: { mutating: { burst: -1, refillPerSecond: 1 } } })).toThrow(
      /ec2\.mutating must be/,
    );
  });
});

describe('createAwsRateLimiter (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  // No reserve unless a test says so: these tests check the mechanics at AWS's exact figures.
  const limiterOf = (over: Parameters<typeof createAwsRateLimiter>[0] = {}) =>
    createAwsRateLimiter({ now: () => Date.now(), headroom: 0, ...over });

  it('lets a burst through at once, then one call per refill interval, in arrival order', async () => {
    const limiter = limiterOf({ limits: { ec2: { nonMutating: { burst: 3, refillPerSecond: 10 } } } });
    const bucket = limiter.bucketOf(call());
    if (!bucket) throw new Error('metered');
    const done: number[] = [];
    const started = Date.now();
    const all = Array.from({ length: 6 }, (_, i) =>
      limiter.acquire(bucket).then(() => done.push(Date.now() - started) && i),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 0, 0, 100]);
    await vi.advanceTimersByTimeAsync(200);
    expect(done).toEqual([0, 0, 0, 100, 200, 300]);
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limiter.stats()).toMatchObject({ taken: 6, waited: 3, waitedMs: 600, aborted: 0 });
  });

  it('a wait ends with the signal: the reason is thrown, no token is taken, the next waiter moves up', async () => {
    const limiter = limiterOf({ limits: { ec2: { nonMutating: { burst: 1, refillPerSecond: 1 } } } });
    const bucket = limiter.bucketOf(call());
    if (!bucket) throw new Error('metered');
    await limiter.acquire(bucket);
    const controller = new AbortController();
    const reason = new Error('query timeout');
    const first = limiter.acquire(bucket, controller.signal).catch((e: unknown) => e);
    let secondAt: number | undefined;
    const second = limiter.acquire(bucket).then(() => {
      secondAt = Date.now();
    });
    const before = Date.now();
    await vi.advanceTimersByTimeAsync(300);
    controller.abort(reason);
    expect(await first).toBe(reason);
    await vi.advanceTimersByTimeAsync(700);
    await second;
    // The aborted waiter's token went to the next one, at the first refill.
    expect(secondAt).toBe(before + 1000);
    expect(limiter.stats()).toMatchObject({ taken: 2, aborted: 1 });
    // An already-fired signal: no wait at all.
    const gone = AbortSignal.abort(reason);
    await expect(limiter.acquire(bucket, gone)).rejects.toBe(reason);
  });

  it('throttled() drains that bucket only: other accounts, regions and classes are unaffected', async () => {
    const limiter = limiterOf();
    const hit = limiter.bucketOf(call());
    const otherAccount = limiter.bucketOf(call({ accountId: '222222222222' }));
    const otherRegion = limiter.bucketOf(call({ region: 'eu-west-1' }));
    const otherClass = limiter.bucketOf(call({ input: {} }));
    if (!hit || !otherAccount || !otherRegion || !otherClass) throw new Error('metered');
    await limiter.throttled(hit);
    let waitedFor: number | undefined;
    const t = Date.now();
    const drained = limiter.acquire(hit).then(() => {
      waitedFor = Date.now() - t;
    });
    // The other three answer in the same tick.
    await Promise.all([
      limiter.acquire(otherAccount),
      limiter.acquire(otherRegion),
      limiter.acquire(otherClass),
    ]);
    expect(waitedFor).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50);
    await drained;
    expect(waitedFor).toBe(50);
    expect(limiter.stats().throttled).toBe(1);
  });

  it('an asynchronous store (Redis-like) is waited on; a failing store lets calls through and says so', async () => {
    const memory = createMemoryBucketStore();
    const keys: string[] = [];
    const slow: BucketStore = {
      take: async (key, spec, nowMs) => {
        keys.push(key);
        return memory.take(key, spec, nowMs);
      },
      drain: async (key, spec, nowMs) => memory.drain(key, spec, nowMs),
    };
    const limiter = limiterOf({ store: slow, limits: { sts: { burst: 2, refillPerSecond: 4 } } });
    const bucket = limiter.bucketOf(call({ service: 'sts', principal: 'key-abc' }));
    if (!bucket) throw new Error('metered');
    const times: number[] = [];
    const t = Date.now();
    const all = Array.from({ length: 4 }, () =>
      limiter.acquire(bucket).then(() => times.push(Date.now() - t)),
    );
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(times).toEqual([0, 0, 250, 500]);
    expect(new Set(keys)).toEqual(new Set(['sts:key-abc:us-east-1']));

    const errors: unknown[] = [];
    const broken = limiterOf({
      store: {
        take: () => {
          throw new Error('redis down');
        },
        drain: () => Promise.reject(new Error('redis down')),
      },
      onStoreError: (e) => errors.push(e),
    });
    const b = broken.bucketOf(call());
    if (!b) throw new Error('metered');
    await broken.acquire(b);
    await broken.throttled(b);
    expect(errors).toHaveLength(2);
    expect(broken.stats().storeErrors).toBe(2);
  });

  it('headroom keeps 10% of a bucket unused, and a throttle pauses the bucket until that reserve is back', async () => {
    const limiter = limiterOf({
      headroom: 0.1,
      limits: { ec2: { nonMutating: { burst: 20, refillPerSecond: 10 } } },
    });
    const bucket = limiter.bucketOf(call());
    if (!bucket) throw new Error('metered');
    const t = Date.now();
    const times: number[] = [];
    const all = Array.from({ length: 20 }, () =>
      limiter.acquire(bucket).then(() => times.push(Date.now() - t)),
    );
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    // 18 at once (2 of 20 kept in reserve), then one per 100 ms.
    expect(times.filter((ms) => ms === 0)).toHaveLength(18);
    expect(times.slice(18)).toEqual([100, 200]);

    // Throttled anyway: a pause of 2 / 10 s (the reserve refills at AWS), then the drained
    // bucket's first token 100 ms later.
    await limiter.throttled(bucket);
    const resumed = Date.now();
    let next: number | undefined;
    const after = limiter.acquire(bucket).then(() => {
      next = Date.now() - resumed;
    });
    await vi.advanceTimersByTimeAsync(299);
    expect(next).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await after;
    expect(next).toBe(300);
    expect(() => createAwsRateLimiter({ headroom: 1 })).toThrow(/headroom must be in \[0, 1\)/);
  });

  describe('sendsLater: a burst from a full bucket whose requests leave later', () => {
    const spec = { burst: 3, refillPerSecond: 10 };
    const start = (over: Parameters<typeof createAwsRateLimiter>[0] = {}, count = 6) => {
      const limiter = limiterOf({ limits: { ec2: { nonMutating: spec } }, ...over });
      const bucket = limiter.bucketOf(call());
      if (!bucket) throw new Error('metered');
      const done: number[] = [];
      const started = Date.now();
      const all = Array.from({ length: count }, () =>
        limiter.acquire(bucket, undefined, { sendsLater: true }).then(() => done.push(Date.now() - started)),
      );
      return { limiter, bucket, done, all };
    };

    it('lets no refilled token through until the first request leaves, then drops the refill counted meanwhile', async () => {
      const { limiter, bucket, done, all } = start();
      await vi.advanceTimersByTimeAsync(0);
      expect(done).toEqual([0, 0, 0]);
      // Without the hold, 3 more would have gone at 100, 200 and 300 ms, all reaching AWS with
      // the burst, while AWS's bucket (full until the first request arrives) gained nothing.
      await vi.advanceTimersByTimeAsync(300);
      expect(done).toEqual([0, 0, 0]);
      limiter.sent(bucket);
      // The bucket refills from now, as AWS's does from the first arrival.
      await vi.advanceTimersByTimeAsync(99);
      expect(done).toEqual([0, 0, 0]);
      await vi.advanceTimersByTimeAsync(201);
      expect(done).toEqual([0, 0, 0, 400, 500, 600]);
      await Promise.all(all);
      expect(limiter.stats()).toMatchObject({ taken: 6, held: 1, waited: 3 });
    });

    it('a hold whose first request never reports leaving ends after maxHoldMs, keeping what the bucket refilled', async () => {
      const { limiter, done, all } = start({ maxHoldMs: 250 }, 5);
      await vi.advanceTimersByTimeAsync(249);
      expect(done).toEqual([0, 0, 0]);
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toEqual([0, 0, 0, 250, 250]);
      await Promise.all(all);
      expect(limiter.stats()).toMatchObject({ taken: 5, held: 1 });
    });

    it('a burst that leaves tokens unused is released without losing them; a bucket in use is not held again', async () => {
      const { limiter, bucket, done } = start({}, 2);
      await vi.advanceTimersByTimeAsync(100);
      limiter.sent(bucket);
      // 1 token left and 1 refilled: both go at once.
      const more = [0, 1].map(() =>
        limiter.acquire(bucket, undefined, { sendsLater: true }).then(() => done.push(Date.now())),
      );
      await vi.advanceTimersByTimeAsync(0);
      await Promise.all(more);
      expect(done).toHaveLength(4);
      expect(limiter.stats()).toMatchObject({ taken: 4, held: 1, waited: 0 });
    });

    it('calls without sendsLater are never held', async () => {
      const limiter = limiterOf({ limits: { ec2: { nonMutating: spec } } });
      const bucket = limiter.bucketOf(call());
      if (!bucket) throw new Error('metered');
      const done: number[] = [];
      const started = Date.now();
      for (let i = 0; i < 4; i++) void limiter.acquire(bucket).then(() => done.push(Date.now() - started));
      await vi.advanceTimersByTimeAsync(100);
      expect(done).toEqual([0, 0, 0, 100]);
      expect(limiter.stats().held).toBe(0);
    });
  });

  it('a store without take/drain is a TypeError at construction', () => {
    expect(() => createAwsRateLimiter({ store: {} as BucketStore })).toThrow(/store must have take/);
  });
});
