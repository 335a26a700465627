import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { AwsCallError } from '../aws-call-error.js';
import { type AwsCallContext, callAws } from '../call-aws.js';
import { createAwsCallBudget } from '../call-budget.js';
import { AdapterErrorCode } from '../error-table.js';
import { createAnswerCache, DEFAULT_ANSWER_TTL_SECONDS, isReadOperation } from './answer-cache.js';
import { answerKey, canonicalJson } from './answer-key.js';
import { type AnswerStore, answerSize, createMemoryAnswerStore, type StoredAnswer } from './answer-store.js';

const ROLE = 'arn:aws:iam::123456789012:role/Reader';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** A deferred answer, so tests decide when AWS "answers". */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function context(extra: Partial<AwsCallContext> = {}): AwsCallContext {
  return {
    session: { accountId: '123456789012', roleArn: ROLE },
    service: 'ec2',
    region: 'us-east-1',
    ...extra,
  };
}

const describeInstances = { operation: 'DescribeInstances', input: { MaxResults: 5 } };

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (sdk)`), { name, $metadata: { httpStatusCode: status } });
}

describe('answer keys', () => {
  it('canonical JSON: keys sorted, undefined left out, arrays in order, dates and bytes as text', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: undefined, c: 3 }] })).toBe('{"a":[2,{"c":3}],"b":1}');
    expect(canonicalJson({ NextToken: undefined, MaxResults: 5 })).toBe(canonicalJson({ MaxResults: 5 }));
    expect(canonicalJson(['b', 'a'])).not.toBe(canonicalJson(['a', 'b']));
    expect(canonicalJson({ at: new Date(0), raw: new Uint8Array([1, 2]) })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z","raw":"AQI="}',
    );
  });

  it('a key names service, operation, account, region, role and the input, and nothing else', () => {
    const key = answerKey({
      roleArn: ROLE,
      accountId: '123456789012',
      region: 'eu-west-1',
      service: 'ec2',
      operation: 'DescribeInstances',
      input: { NextToken: undefined, Filters: [{ Values: ['running'], Name: 'instance-state-name' }] },
    });
    expect(key).toBe(
      `ec2:DescribeInstances:123456789012:eu-west-1:${ROLE}:{"Filters":[{"Name":"instance-state-name","Values":["running"]}]}`,
    );
    const other = (parts: Record<string, string>) =>
      answerKey({
        roleArn: ROLE,
        accountId: '123456789012',
        region: 'eu-west-1',
        service: 'ec2',
        operation: 'DescribeInstances',
        input: {},
        ...parts,
      });
    const keys = new Set([
      other({}),
      other({ roleArn: 'arn:aws:iam::123456789012:role/Auditor' }),
      other({ accountId: '210987654321' }),
      other({ region: 'us-east-1' }),
      other({ service: 's3' }),
      other({ operation: 'DescribeVolumes' }),
    ]);
    expect(keys.size).toBe(6);
  });

  it('only reads are cacheable', () => {
    expect(
      ['DescribeInstances', 'ListBuckets', 'GetBucketTagging', 'HeadBucket'].every(isReadOperation),
    ).toBe(true);
    expect(
      ['TerminateInstances', 'PutBucketTagging', 'AssumeRole', 'Describe', 'Listen'].some(isReadOperation),
    ).toBe(false);
  });
});

describe('createMemoryAnswerStore', () => {
  const answer = (bytes: number, storedAt = 0): StoredAnswer => ({ value: new Uint8Array(bytes), storedAt });

  it('is bounded by bytes: the least recently used entries make room, an oversized one is not kept', () => {
    const size = answerSize('k0', answer(1000));
    const store = createMemoryAnswerStore({ maxBytes: size * 3 });
    for (const key of ['k0', 'k1', 'k2']) store.set(key, answer(1000), 60_000);
    expect(store.get('k0')).toBeDefined(); // k0 is now the most recently used
    store.set('k3', answer(1000), 60_000);
    expect(store.get('k1')).toBeUndefined();
    expect(['k0', 'k2', 'k3'].map((k) => store.get(k) !== undefined)).toEqual([true, true, true]);
    store.set('big', answer(size * 3), 60_000);
    expect(store.get('big')).toBeUndefined();
    expect(store.get('k3')).toBeDefined();
  });

  it('drops an entry after its TTL, on the injected clock; a TTL of 0 keeps nothing', () => {
    const c = clock();
    const store = createMemoryAnswerStore({ maxBytes: 1_000_000, now: c.now });
    store.set('a', answer(10), 1000);
    store.set('zero', answer(10), 0);
    c.advance(999);
    expect(store.get('a')).toBeDefined();
    c.advance(2);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('zero')).toBeUndefined();
  });

  it('refuses a bad bound with a TypeError naming it', () => {
    expect(() => createMemoryAnswerStore({ maxBytes: 0 })).toThrow(
      /maxBytes must be a positive integer, got 0/,
    );
    expect(() => createMemoryAnswerStore({ maxBytes: Number.NaN })).toThrow(TypeError);
  });
});

describe('createAnswerCache through callAws', () => {
  it('serves a read from the cache within its TTL: no second send, no budget unit, one frozen decoded copy', async () => {
    const c = clock();
    const cache = createAnswerCache({ now: c.now, ttlSeconds: { 'ec2:DescribeInstances': 30 } });
    let sent = 0;
    const send = async () => ({
      Reservations: [{ Instances: [{ InstanceId: `i-${++sent}`, LaunchTime: new Date(0) }] }],
    });
    const budget = createAwsCallBudget(10);
    const first = cache.forRequest();
    const a = await callAws(context({ budget, cache: first }), describeInstances, send);
    c.advance(29_000);
    const second = cache.forRequest();
    const b = await callAws(context({ budget, cache: second }), describeInstances, send);
    expect(sent).toBe(1);
    expect(budget.used).toBe(1);
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
    expect(b.Reservations[0]?.Instances[0]?.LaunchTime).toBeInstanceOf(Date);
    // A hit is decoded once, deeply frozen and shared by the later hits: changing it throws,
    // and the next caller gets it whole. The sender's own value stays its own.
    expect(Object.isFrozen(b.Reservations[0]?.Instances[0])).toBe(true);
    expect(() => {
      b.Reservations.length = 0;
    }).toThrow(TypeError);
    const again = await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
    expect(again).toBe(b);
    expect(again.Reservations).toHaveLength(1);
    expect(Object.isFrozen(a)).toBe(false);
    expect(first.stats()).toMatchObject({ hits: 0, misses: 1, shared: 0, oldestStoredAt: 1_000_000 });
    expect(second.stats()).toMatchObject({
      hits: 1,
      misses: 0,
      oldestStoredAt: 1_000_000,
      accounts: { '123456789012': { hits: 1, misses: 0, shared: 0, oldestStoredAt: 1_000_000 } },
    });
    // Past the TTL it is sent again.
    c.advance(1_001);
    await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
    expect(sent).toBe(2);
  });

  it('an answer holding bytes (a Uint8Array, which cannot be frozen) is still served from the cache, a copy each time', async () => {
    const cache = createAnswerCache();
    let sent = 0;
    const send = async () => ({ n: ++sent, Body: new Uint8Array([1, 2, 3]) });
    await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
    const hit = await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
    const again = await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
    expect(sent).toBe(1);
    expect(hit).toEqual({ n: 1, Body: new Uint8Array([1, 2, 3]) });
    expect(again).not.toBe(hit);
  });

  it('keys on the role, account, region and input: any difference is another call', async () => {
    const cache = createAnswerCache();
    let sent = 0;
    const send = async () => ++sent;
    const view = cache.forRequest();
    await callAws(context({ cache: view }), describeInstances, send);
    await callAws(
      context({ cache: view, session: { accountId: '123456789012', roleArn: `${ROLE}2` } }),
      describeInstances,
      send,
    );
    await callAws(context({ cache: view, region: 'eu-west-1' }), describeInstances, send);
    await callAws(
      context({ cache: view }),
      { operation: 'DescribeInstances', input: { MaxResults: 6 } },
      send,
    );
    await callAws(
      context({ cache: view }),
      { operation: 'DescribeInstances', input: { MaxResults: 5, NextToken: undefined } },
      send,
    );
    expect(sent).toBe(4);
    expect(view.stats()).toMatchObject({ hits: 1, misses: 4 });
  });

  it('TTL per service/operation: the most specific wins, 0 turns storing off', () => {
    const cache = createAnswerCache({ ttlSeconds: { default: 10, s3: 20, 's3:ListBuckets': 0 } });
    expect(cache.ttlMs('ec2', 'DescribeInstances')).toBe(10_000);
    expect(cache.ttlMs('s3', 'GetBucketTagging')).toBe(20_000);
    expect(cache.ttlMs('s3', 'ListBuckets')).toBe(0);
    expect(cache.ttlMs('ec2', 'DescribeRegions')).toBe(
      DEFAULT_ANSWER_TTL_SECONDS['ec2:DescribeRegions']! * 1000,
    );
    expect(createAnswerCache().ttlMs('ec2', 'DescribeInstances')).toBe(60_000);
    expect(() => createAnswerCache({ ttlSeconds: { 'ec2:DescribeInstances': -1 } })).toThrow(
      /ttlSeconds\["ec2:DescribeInstances"\] must be a number of seconds >= 0, got -1/,
    );
    expect(() => createAnswerCache({ ttlSeconds: { 'EC2 Describe': 1 } })).toThrow(/ttlSeconds key/);
  });

  it('single flight: identical calls in flight from different requests share one send, TTL 0 too', async () => {
    for (const ttl of [60, 0]) {
      const cache = createAnswerCache({ ttlSeconds: { default: ttl } });
      const answer = deferred<{ n: number }>();
      let sent = 0;
      const send = () => {
        sent++;
        return answer.promise;
      };
      const budgets = [createAwsCallBudget(5), createAwsCallBudget(5), createAwsCallBudget(5)];
      const views = budgets.map(() => cache.forRequest());
      const calls = budgets.map((budget, i) =>
        callAws(context({ budget, cache: views[i] }), describeInstances, send),
      );
      await new Promise((r) => setImmediate(r));
      expect(cache.inFlight).toBe(1);
      answer.resolve({ n: 1 });
      const results = await Promise.all(calls);
      expect(sent).toBe(1);
      expect(results).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
      expect(budgets.map((b) => b.used)).toEqual([1, 0, 0]);
      expect(views.map((v) => [v.stats().misses, v.stats().shared])).toEqual([
        [1, 0],
        [0, 1],
        [0, 1],
      ]);
      await new Promise((r) => setImmediate(r));
      expect(cache.inFlight).toBe(0);
      // Afterwards: stored with a TTL, sent again with TTL 0.
      await callAws(context({ cache: cache.forRequest() }), describeInstances, send);
      expect(sent).toBe(ttl > 0 ? 1 : 2);
    }
  });

  it('a waiter whose signal fires leaves alone; the shared call goes on for the others', async () => {
    const cache = createAnswerCache();
    const answer = deferred<string>();
    let sendSignal: AbortSignal | undefined;
    const send = (signal: AbortSignal | undefined) => {
      sendSignal = signal;
      return answer.promise;
    };
    const starter = new AbortController();
    const other = new AbortController();
    const first = callAws(
      context({ signal: starter.signal, cache: cache.forRequest() }),
      describeInstances,
      send,
    );
    const second = callAws(
      context({ signal: other.signal, cache: cache.forRequest() }),
      describeInstances,
      send,
    );
    await new Promise((r) => setImmediate(r));
    starter.abort(new Error('caller left'));
    const failure = await first.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsCallError);
    expect(failure).toMatchObject({ code: AdapterErrorCode.ABORTED, operation: 'DescribeInstances' });
    // The starter's abort did not reach AWS: the shared call has its own signal.
    expect(sendSignal).toBeDefined();
    expect(sendSignal).not.toBe(starter.signal);
    expect(sendSignal?.aborted).toBe(false);
    answer.resolve('ok');
    expect(await second).toBe('ok');
    // It was stored for everyone.
    let again = 0;
    expect(
      await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => `${++again}`),
    ).toBe('ok');
    expect(again).toBe(0);
  });

  it('the shared call is cancelled once every waiter left, and the next caller starts afresh', async () => {
    const cache = createAnswerCache();
    let sendSignal: AbortSignal | undefined;
    let sent = 0;
    const hang = (signal: AbortSignal | undefined) => {
      sent++;
      sendSignal = signal;
      return new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason)),
      );
    };
    const a = new AbortController();
    const b = new AbortController();
    const calls = [a, b].map((c) =>
      callAws(context({ signal: c.signal, cache: cache.forRequest() }), describeInstances, hang).catch(
        (e) => e,
      ),
    );
    await new Promise((r) => setImmediate(r));
    a.abort(new Error('gone'));
    await new Promise((r) => setImmediate(r));
    expect(sendSignal?.aborted).toBe(false);
    b.abort(new Error('gone too'));
    const failures = await Promise.all(calls);
    expect(failures.map((f: AwsCallError) => f.code)).toEqual([
      AdapterErrorCode.ABORTED,
      AdapterErrorCode.ABORTED,
    ]);
    expect(sendSignal?.aborted).toBe(true);
    expect(cache.inFlight).toBe(0);
    expect(
      await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => 'fresh'),
    ).toBe('fresh');
    expect(sent).toBe(1);
  });

  it('errors are never stored: every waiter gets its own typed error, the next caller sends again', async () => {
    const cache = createAnswerCache();
    const answer = deferred<string>();
    let sent = 0;
    const send = () => {
      sent++;
      return answer.promise;
    };
    const budget = createAwsCallBudget(5);
    const one = callAws(context({ budget, cache: cache.forRequest() }), describeInstances, send).catch(
      (e) => e,
    );
    const two = callAws(
      context({ cache: cache.forRequest(), about: 'as the second' }),
      describeInstances,
      send,
    ).catch((e) => e);
    answer.reject(sdkError('RequestLimitExceeded', 503));
    const [e1, e2] = await Promise.all([one, two]);
    expect(e1).toMatchObject({ code: AdapterErrorCode.AWS_THROTTLED, awsCode: 'RequestLimitExceeded' });
    expect(e2).toMatchObject({ code: AdapterErrorCode.AWS_THROTTLED });
    expect(e2.message).toMatch(/as the second/);
    expect([budget.used, budget.failed]).toEqual([1, 1]);
    expect(
      await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => 'later'),
    ).toBe('later');
    expect(sent).toBe(1);
  });

  it('an answer send turns into a value is stored like any answer', async () => {
    const cache = createAnswerCache();
    let sent = 0;
    const notConfigured = async () => {
      sent++;
      try {
        throw sdkError('NoSuchTagSet', 404);
      } catch {
        return [] as string[];
      }
    };
    const tagging = { operation: 'GetBucketTagging', input: { Bucket: 'logs' } };
    const s3 = { service: 's3' };
    expect(await callAws(context({ ...s3, cache: cache.forRequest() }), tagging, notConfigured)).toEqual([]);
    expect(await callAws(context({ ...s3, cache: cache.forRequest() }), tagging, notConfigured)).toEqual([]);
    expect(sent).toBe(1);
  });

  it('freshness: noCache fetches anew and refreshes the cache; maxAge accepts only younger answers', async () => {
    const c = clock();
    const cache = createAnswerCache({ now: c.now });
    let n = 0;
    const send = async () => ++n;
    expect(await callAws(context({ cache: cache.forRequest() }), describeInstances, send)).toBe(1);
    c.advance(20_000);
    const fresh = cache.forRequest({ noCache: true });
    expect(await callAws(context({ cache: fresh }), describeInstances, send)).toBe(2);
    expect(fresh.stats()).toMatchObject({ hits: 0, misses: 1, oldestStoredAt: 1_020_000 });
    // The refreshed answer is what the next request gets.
    c.advance(10_000);
    const view = cache.forRequest();
    expect(await callAws(context({ cache: view }), describeInstances, send)).toBe(2);
    expect(view.stats().oldestStoredAt).toBe(1_020_000);
    // 10 s old: too old for max-age 5 s, young enough for max-age 10 s.
    expect(
      await callAws(context({ cache: cache.forRequest({ maxAgeMs: 10_000 }) }), describeInstances, send),
    ).toBe(2);
    expect(
      await callAws(context({ cache: cache.forRequest({ maxAgeMs: 5_000 }) }), describeInstances, send),
    ).toBe(3);
    // max-age never extends the TTL (60 s).
    c.advance(61_000);
    expect(
      await callAws(context({ cache: cache.forRequest({ maxAgeMs: 3_600_000 }) }), describeInstances, send),
    ).toBe(4);
    expect(() => cache.forRequest({ maxAgeMs: -1 })).toThrow(TypeError);
  });

  it('a spent budget refuses only the caller that would send; hits and shared calls need none', async () => {
    const cache = createAnswerCache();
    const spent = createAwsCallBudget(0);
    const failure = await callAws(
      context({ budget: spent, cache: cache.forRequest() }),
      describeInstances,
      async () => 1,
    ).catch((e) => e);
    expect(failure).toMatchObject({ code: AdapterErrorCode.AWS_CALL_BUDGET_EXCEEDED });
    expect(cache.inFlight).toBe(0);
    await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => 1);
    expect(
      await callAws(context({ budget: spent, cache: cache.forRequest() }), describeInstances, async () => 2),
    ).toBe(1);
  });

  it('a store that fails is a miss, reported; the call still answers', async () => {
    const errors: string[] = [];
    const broken: AnswerStore = {
      get: () => Promise.reject(new Error('redis down')),
      set: () => {
        throw new Error('redis down');
      },
    };
    const cache = createAnswerCache({ store: broken, onStoreError: (_e, action) => errors.push(action) });
    let sent = 0;
    for (let i = 0; i < 2; i++) {
      expect(
        await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => ++sent),
      ).toBe(i + 1);
      await new Promise((r) => setImmediate(r));
    }
    expect(errors).toEqual(['get', 'set', 'get', 'set']);
  });

  it('an unreadable stored value is a miss', async () => {
    const store = createMemoryAnswerStore({ maxBytes: 1_000_000 });
    const cache = createAnswerCache({ store });
    const key = answerKey({
      roleArn: ROLE,
      accountId: '123456789012',
      region: 'us-east-1',
      service: 'ec2',
      ...describeInstances,
    });
    store.set(key, { value: new Uint8Array([1, 2, 3]), storedAt: Date.now() }, 60_000);
    expect(await callAws(context({ cache: cache.forRequest() }), describeInstances, async () => 'sent')).toBe(
      'sent',
    );
    const stored = store.get(key) as StoredAnswer;
    expect(Buffer.from(stored.value)).toEqual(serialize('sent'));
  });

  it('writes and unknown operations are never cached nor shared', async () => {
    const cache = createAnswerCache();
    let sent = 0;
    const send = async () => ++sent;
    const view = cache.forRequest();
    await Promise.all([
      callAws(context({ cache: view }), { operation: 'TerminateInstances', input: {} }, send),
      callAws(context({ cache: view }), { operation: 'TerminateInstances', input: {} }, send),
    ]);
    expect(sent).toBe(2);
    expect(view.stats()).toMatchObject({ hits: 0, misses: 0, shared: 0 });
  });

  it('a context with a cache but no role ARN is a bug, said at once', async () => {
    const cache = createAnswerCache();
    await expect(
      callAws(
        {
          session: { accountId: '123456789012' },
          service: 'ec2',
          region: 'us-east-1',
          cache: cache.forRequest(),
        },
        describeInstances,
        async () => 1,
      ),
    ).rejects.toThrow(/needs session.roleArn/);
  });
});
