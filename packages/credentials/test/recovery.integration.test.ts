import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSessionCache, type SessionEvent } from '../src/index.js';

// One shared clock for the SDK's signer, the sandbox and the cache: Date is faked (timers stay
// real), so jumping an hour expires credentials everywhere while probes run on real 0.2-0.4 s timers.
const MIN = 60_000;
const roleOf = (account: string) => `arn:aws:iam::${account}:role/RolegraphReader`;
const PROD = roleOf('111111111111');
const STAGING = roleOf('222222222222');
let sb: Sandbox;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  sb = await startSandbox({ fixture: 'demo' });
});
afterAll(async () => {
  await sb.close();
  vi.useRealTimers();
});

const jump = (ms: number) => vi.setSystemTime(Date.now() + ms);
const assumeRoleCalls = () => sb.admin.calls({ service: 'sts', operation: 'AssumeRole' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe('recovery after an STS outage that outlasted the credentials', () => {
  it('a probe per source finds STS back within one probe interval; every expired session recovers', async () => {
    const events: SessionEvent[] = [];
    const { accessKeyId, secretAccessKey } = sb.credentials;
    const source = async () => ({ accessKeyId, secretAccessKey });
    const sessions = createSessionCache({
      sourceCredentials: source,
      stsEndpoint: sb.endpoint,
      // One attempt per AssumeRole, so the sandbox's count is the number of refreshes tried.
      stsClientConfig: { maxAttempts: 1 },
      clientDefaults: { endpoint: sb.endpoint, maxAttempts: 1 },
      recoveryProbe: { minMs: 200, maxMs: 400 },
      refresh: { proactiveRefresh: false, refreshBackoff: { minMs: 5 * MIN, maxMs: 5 * MIN } },
      onEvent: (e) => events.push(e),
    });
    // Held, as a daemon holds them: the hour jumped below is past the idle timeout, and a held
    // session is what must recover.
    const clients = new Map(
      [PROD, STAGING].map((roleArn) => [roleArn, sessions.get({ roleArn }).client(EC2Client, 'us-east-1')]),
    );
    const describeIn = (roleArn: string) =>
      (clients.get(roleArn) as EC2Client).send(new DescribeInstancesCommand({ MaxResults: 5 })).then(
        () => true,
        () => false,
      );
    try {
      expect(await describeIn(PROD)).toBe(true);
      expect(await describeIn(STAGING)).toBe(true);
      expect(assumeRoleCalls()).toBe(2);

      sb.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });
      jump(61 * MIN);
      // Both refreshes fail, both back off for 5 minutes serving expired keys that EC2 refuses.
      expect(await describeIn(PROD)).toBe(false);
      expect(await describeIn(STAGING)).toBe(false);
      const afterFailures = assumeRoleCalls();
      expect(afterFailures).toBe(4);
      await sleep(1_000);
      const probes = events.filter((e) => e.event.type === 'probe').length;
      expect(probes).toBeGreaterThanOrEqual(1);
      // During the outage: one call per probe (one source, so one probe at a time), nothing else.
      expect(assumeRoleCalls() - afterFailures).toBe(probes);
      expect(await describeIn(PROD)).toBe(false);
      expect(assumeRoleCalls() - afterFailures).toBe(events.filter((e) => e.event.type === 'probe').length);

      sb.admin.clearFaults();
      const outageEnded = assumeRoleCalls();
      // Well inside the 5 minute backoff: only the probe can have brought them back.
      await until(async () => (await describeIn(PROD)) && (await describeIn(STAGING)), 10_000);
      expect(events.some((e) => e.event.type === 'backoff-released')).toBe(true);
      expect(events.some((e) => e.event.type === 'refresh-succeeded' && e.event.reason === 'probe')).toBe(
        true,
      );
      // One successful probe, then one refresh for the other session on its next use.
      expect(assumeRoleCalls() - outageEnded).toBeLessThanOrEqual(3);
      const settled = assumeRoleCalls();
      await sleep(600);
      expect(assumeRoleCalls()).toBe(settled); // no probe once nothing waits
    } finally {
      sessions.close();
      sb.admin.clearFaults();
    }
  });

  it('recoveryProbe: false keeps AWS backoff only: no call until the backoff ends', async () => {
    const { accessKeyId, secretAccessKey } = sb.credentials;
    const sessions = createSessionCache({
      sourceCredentials: async () => ({ accessKeyId, secretAccessKey }),
      stsEndpoint: sb.endpoint,
      stsClientConfig: { maxAttempts: 1 },
      clientDefaults: { endpoint: sb.endpoint, maxAttempts: 1 },
      recoveryProbe: false,
      refresh: { proactiveRefresh: false, refreshBackoff: { minMs: 5 * MIN, maxMs: 5 * MIN } },
    });
    try {
      const s = sessions.get({ roleArn: PROD });
      await s.credentials();
      sb.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });
      jump(61 * MIN);
      await s.credentials(); // fails, backs off, serves the expired credentials
      const calls = assumeRoleCalls();
      sb.admin.clearFaults();
      await sleep(800);
      await s.credentials();
      expect(assumeRoleCalls()).toBe(calls);
      expect(s.status().credentials.state).toBe('expired');
    } finally {
      sessions.close();
    }
    expect(() => createSessionCache({ recoveryProbe: { minMs: 0, maxMs: 5 } })).toThrow(/recoveryProbe/);
  });
});
