import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { generateFixture, type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterErrorCode, type AwsCallError, callAws, createAwsRateLimiter } from '../src/aws/index.js';
import { createSessionCache, type Session, type SessionCache } from '../src/index.js';

// Real SDK clients against the sandbox's token buckets: a call waits for its bucket instead of
// being throttled, every attempt that reaches the sandbox takes a token, and AssumeRole calls of
// one source principal share a bucket.
const ACCOUNTS = 8;
const READER_ROLE_NAME = 'RolegraphReader';
const fixture = generateFixture({ accounts: ACCOUNTS, instancesPerRegion: 1, bucketsPerAccount: 0 });
const members = fixture.accounts.filter((a) => a.roles.some((r) => r.name === READER_ROLE_NAME));
// A hub role in the first member account that every reader role trusts: roles reached through
// it wait for its AssumeRole before they are signed.
const CENTRAL_ARN = 'arn:aws:iam::000000000000:user/rolegraph-central';
const HUB_ROLE_NAME = 'RolegraphHub';
const hubAccount = members[0];
if (!hubAccount) throw new Error('no member account');
const HUB_ARN = `arn:aws:iam::${hubAccount.id}:role/${HUB_ROLE_NAME}`;
hubAccount.roles.push({
  name: HUB_ROLE_NAME,
  maxSessionDuration: 3600,
  trust: [{ principal: CENTRAL_ARN }],
  accountId: hubAccount.id,
  arn: HUB_ARN,
  roleId: 'AROAROLEGRAPHTESTHUB0',
});
for (const account of members) {
  for (const role of account.roles)
    if (role.name === READER_ROLE_NAME) role.trust.push({ principal: HUB_ARN });
}
const roleOf = (i: number) => {
  const role = members[i]?.roles.find((r) => r.name === READER_ROLE_NAME);
  if (!role) throw new Error(`no reader role in member ${i}`);
  return role.arn;
};
let sb: Sandbox;
let sessions: SessionCache | undefined;

beforeAll(async () => {
  sb = await startSandbox({ fixture });
});
afterAll(async () => {
  await sb.close();
});
afterEach(() => {
  sessions?.close();
  sessions = undefined;
  sb.admin.clearFaults();
  sb.admin.setThrottling(false);
  sb.admin.reset();
});

function newSessions(options: Parameters<typeof createSessionCache>[0] = {}): SessionCache {
  const { accessKeyId, secretAccessKey } = sb.credentials;
  sessions = createSessionCache({
    sourceCredentials: async () => ({ accessKeyId, secretAccessKey }),
    stsEndpoint: sb.endpoint,
    clientDefaults: { endpoint: sb.endpoint },
    refresh: { proactiveRefresh: false },
    ...options,
  });
  return sessions;
}

const describeRegions = (
  session: Session,
  limits: ReturnType<typeof createAwsRateLimiter>,
  signal?: AbortSignal,
) => {
  const input = { AllRegions: false };
  return callAws(
    { session, service: 'ec2', region: 'us-east-1', limits, signal },
    { operation: 'DescribeRegions', input },
    (abortSignal) =>
      session.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand(input), { abortSignal }),
  );
};

describe('rate limits at the seam, against the sandbox', () => {
  it('calls wait for their bucket instead of being throttled: 40 calls on a 20-token bucket, no retry allowed, all answer', async () => {
    const spec = { burst: 20, refillPerSecond: 10 };
    sb.admin.setThrottling({ ec2: spec, sts: false, s3: false });
    // A reserve of 2 tokens: 200 ms of slack between release and arrival.
    const limits = createAwsRateLimiter({ headroom: 0.1, limits: { ec2: { nonMutating: spec } } });
    // maxAttempts 1: a single throttled answer would fail its call.
    const session = newSessions({ clientDefaults: { endpoint: sb.endpoint, maxAttempts: 1 } }).get({
      roleArn: roleOf(0),
    });
    await session.credentials();
    const results = await Promise.all(Array.from({ length: 40 }, () => describeRegions(session, limits)));
    expect(results.every((r) => (r.Regions?.length ?? 0) > 0)).toBe(true);
    // Exactly one request per call reached EC2: none was throttled and sent again.
    expect(sb.admin.calls({ service: 'ec2', operation: 'DescribeRegions' })).toBe(40);
    expect(limits.stats()).toMatchObject({ taken: 40, throttled: 0 });
    // 18 at once (2 kept in reserve), the other 22 waited for a refill.
    expect(limits.stats().waited).toBe(22);
  });

  it('every attempt that reaches AWS takes a token: SDK retries of a throttled call included, and each throttle drains the bucket', async () => {
    sb.admin.setFault({ service: 'ec2', operation: 'DescribeRegions', error: 'throttle', times: 2 });
    const limits = createAwsRateLimiter();
    const session = newSessions({ clientDefaults: { endpoint: sb.endpoint, maxAttempts: 3 } }).get({
      roleArn: roleOf(0),
    });
    const out = await describeRegions(session, limits);
    expect(out.Regions?.length).toBeGreaterThan(0);
    expect(sb.admin.calls({ service: 'ec2', operation: 'DescribeRegions' })).toBe(3);
    // One token for the first attempt (at the seam) and one for each of the two retries.
    expect(limits.stats()).toMatchObject({ taken: 3, throttled: 2 });
  });

  it('a wait the query timeout cuts short is ABORTED and sends nothing', async () => {
    const limits = createAwsRateLimiter({
      limits: { ec2: { nonMutating: { burst: 1, refillPerSecond: 0.1 } } },
    });
    const session = newSessions().get({ roleArn: roleOf(0) });
    await describeRegions(session, limits);
    const timeout = AbortSignal.timeout(200);
    const started = Date.now();
    const failure = (await describeRegions(session, limits, timeout).catch(
      (e: unknown) => e,
    )) as AwsCallError;
    expect(failure.code).toBe(AdapterErrorCode.ABORTED);
    expect(failure.operation).toBe('DescribeRegions');
    // Ended by the signal (~200 ms), not by the 10 s refill.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sb.admin.calls({ service: 'ec2', operation: 'DescribeRegions' })).toBe(1);
  });

  it('AssumeRole of one source principal shares an STS bucket: a cold start over 8 roles is paced, never throttled', async () => {
    const spec = { burst: 4, refillPerSecond: 10 };
    sb.admin.setThrottling({ sts: spec, ec2: false, s3: false });
    const limits = createAwsRateLimiter({ limits: { sts: spec } });
    const cache = newSessions({ limits, stsClientConfig: { maxAttempts: 1 } });
    const started = Date.now();
    const identities = await Promise.all(
      Array.from({ length: ACCOUNTS }, (_, i) => cache.get({ roleArn: roleOf(i) }).credentials()),
    );
    expect(identities.every((c) => c.accessKeyId.length > 0)).toBe(true);
    expect(sb.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBe(ACCOUNTS);
    expect(limits.stats()).toMatchObject({ taken: ACCOUNTS, throttled: 0 });
    // 3 at once (one token kept in reserve), then 10 per second: the last of 8 cannot start before 500 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('the wait for an STS token does not count against sourceTimeoutMs: a queue longer than the timeout still answers every role', async () => {
    // 3 tokens at once (one in reserve), then 5 per second: the last of 8 roles waits about 1 s
    // for its token, well past a 300 ms source timeout that bounds only the AssumeRole itself.
    const spec = { burst: 4, refillPerSecond: 5 };
    sb.admin.setThrottling({ sts: spec, ec2: false, s3: false });
    const limits = createAwsRateLimiter({ limits: { sts: spec } });
    const cache = newSessions({
      limits,
      stsClientConfig: { maxAttempts: 1 },
      refresh: { proactiveRefresh: false, sourceTimeoutMs: 300 },
    });
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: ACCOUNTS }, (_, i) => cache.get({ roleArn: roleOf(i) }).credentials()),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sb.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBe(ACCOUNTS);
    expect(limits.stats()).toMatchObject({ taken: ACCOUNTS, throttled: 0 });
  });

  it('an AssumeRole waits for its token unsigned: each request leaves within 2 s of its signature, however long it queued', async () => {
    // A bucket of 2 less its reserve of 1: one at once, then one per 2.5 s, so the third role
    // queues about 5 s.
    const spec = { burst: 2, refillPerSecond: 0.4 };
    sb.admin.setThrottling({ sts: spec, ec2: false, s3: false });
    const limits = createAwsRateLimiter({ limits: { sts: spec } });
    const inner = new NodeHttpHandler();
    const sent: Array<{ signedAtSecond: number; sentAt: number }> = [];
    const recording = {
      handle(request: { headers: Record<string, string> }, options?: object) {
        const d = request.headers['x-amz-date'] ?? '';
        const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 11)}:${d.slice(11, 13)}:${d.slice(13)}`;
        sent.push({ signedAtSecond: Date.parse(iso), sentAt: Date.now() });
        return inner.handle(request as never, options);
      },
    };
    const cache = newSessions({ limits, stsClientConfig: { maxAttempts: 1, requestHandler: recording } });
    const started = Date.now();
    await Promise.all(Array.from({ length: 3 }, (_, i) => cache.get({ roleArn: roleOf(i) }).credentials()));
    inner.destroy();
    expect(sent).toHaveLength(3);
    expect(Math.max(...sent.map((s) => s.sentAt)) - started).toBeGreaterThanOrEqual(4500);
    // x-amz-date has whole seconds, and the SDK sets its clock by the server's whole-second
    // Date header: signed within 2 s before the date's second ends, then sent at once. Signed
    // before the wait, the last would leave 5 s after its signature.
    for (const s of sent) expect(s.sentAt - s.signedAtSecond).toBeLessThan(2200);
    expect(limits.stats()).toMatchObject({ taken: 3, throttled: 0 });
  });

  it('a burst behind a cold source role lets no refilled token out before its first request leaves: none is throttled', async () => {
    // A bucket of 4 less its reserve of 1, refilling 5 per second, and 600 ms per STS call: the
    // 8 roles take 3 tokens at once, then wait for the hub's AssumeRole before they are signed.
    const spec = { burst: 4, refillPerSecond: 5 };
    sb.admin.setLatency({ sts: { fixedMs: 600 } });
    const run = async (maxHoldMs?: number) => {
      sb.admin.setThrottling({ sts: spec, ec2: false, s3: false });
      sb.admin.reset();
      const limits = createAwsRateLimiter({
        limits: { sts: spec },
        ...(maxHoldMs === undefined ? {} : { maxHoldMs }),
      });
      const cache = newSessions({ limits, stsClientConfig: { maxAttempts: 1 } });
      const outcomes = await Promise.allSettled(
        Array.from({ length: ACCOUNTS }, (_, i) =>
          cache.get({ roleArn: roleOf(i), sourceRole: { roleArn: HUB_ARN } }).credentials(),
        ),
      );
      cache.close();
      return {
        failed: outcomes.filter((o) => o.status === 'rejected').length,
        throttled: sb.admin.calls({ service: 'sts', outcome: 'throttled' }),
        assumeRole: sb.admin.calls({ service: 'sts', operation: 'AssumeRole' }),
        stats: limits.stats(),
      };
    };
    try {
      const held = await run();
      expect(held).toMatchObject({ failed: 0, throttled: 0, assumeRole: ACCOUNTS + 1 });
      expect(held.stats.held).toBeGreaterThanOrEqual(1);
      expect(held.stats.throttled).toBe(0);
      // The same start with the hold ending at once: the tokens the bucket refilled during the
      // hub's 600 ms reach STS together with the burst, and STS throttles some.
      const unheld = await run(0);
      expect(unheld.throttled).toBeGreaterThan(0);
      expect(unheld.failed).toBeGreaterThan(0);
    } finally {
      sb.admin.setLatency({});
    }
  });

  it('a queue wait past queueTimeoutMs is SOURCE_TIMEOUT, and sends nothing', async () => {
    // One token, then one every 100 s: the second role cannot get one.
    const spec = { burst: 2, refillPerSecond: 0.01 };
    sb.admin.setThrottling({ sts: spec, ec2: false, s3: false });
    const limits = createAwsRateLimiter({ limits: { sts: spec } });
    const cache = newSessions({
      limits,
      stsClientConfig: { maxAttempts: 1 },
      refresh: { proactiveRefresh: false, queueTimeoutMs: 300 },
    });
    const outcomes = await Promise.allSettled(
      [0, 1].map((i) => cache.get({ roleArn: roleOf(i) }).credentials()),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({
      code: 'CREDENTIALS_UNAVAILABLE',
      cause: {
        code: 'SOURCE_TIMEOUT',
        message: expect.stringMatching(/waited more than 300 ms for a rate-limit token/),
      },
    });
    expect(sb.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBe(1);
  });

  it('without the limiter a cold start over 8 roles on a bucket of 4 is throttled (what the limiter prevents)', async () => {
    // Barely refilling, so the outcome does not depend on how fast this machine sends.
    sb.admin.setThrottling({ sts: { burst: 4, refillPerSecond: 0.1 }, ec2: false, s3: false });
    const cache = newSessions({ limits: false, stsClientConfig: { maxAttempts: 1 } });
    const outcomes = await Promise.allSettled(
      Array.from({ length: ACCOUNTS }, (_, i) => cache.get({ roleArn: roleOf(i) }).credentials()),
    );
    expect(outcomes.filter((o) => o.status === 'rejected').length).toBeGreaterThan(0);
  });
});
