import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CredentialEvent, createSessionCache, type SessionCache } from '../src/index.js';

// One shared clock for the SDK's signer, the sandbox and the credential cache: Date is faked
// (timers stay real) so that jumping an hour ahead expires credentials everywhere at once.
const ROLE = 'arn:aws:iam::111111111111:role/RolegraphReader';
const MIN = 60_000;
let sb: Sandbox;
let sessions: SessionCache;
const events: CredentialEvent[] = [];

const jump = (ms: number) => vi.setSystemTime(Date.now() + ms);
const assumeRoleCalls = () => sb.admin.calls({ service: 'sts', operation: 'AssumeRole' });
const describe3 = (ec2: EC2Client) => ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  sb = await startSandbox({ fixture: 'demo' });
});
afterAll(async () => {
  await sb.close();
  vi.useRealTimers();
});
afterEach(() => {
  sessions?.close();
  sb.admin.clearFaults();
  sb.admin.reset();
  events.length = 0;
});

function newSessions(): SessionCache {
  const { accessKeyId, secretAccessKey } = sb.credentials;
  sessions = createSessionCache({
    sourceCredentials: async () => ({ accessKeyId, secretAccessKey }),
    stsEndpoint: sb.endpoint,
    clientDefaults: { endpoint: sb.endpoint },
    // The timer is off so that each refresh below is caused by a request, at a known time.
    refresh: { proactiveRefresh: false, refreshBackoff: { minMs: 5 * MIN, maxMs: 5 * MIN } },
    onEvent: (e) => events.push(e.event),
  });
  return sessions;
}

describe('against the sandbox (real SigV4, real expiry)', () => {
  it('keeps one session working across three expiries with one AssumeRole per lifetime', async () => {
    const ec2 = newSessions().get({ roleArn: ROLE, durationSeconds: 3600 }).client(EC2Client, 'us-east-1');
    await describe3(ec2);
    expect(assumeRoleCalls()).toBe(1);
    for (let lifetime = 2; lifetime <= 4; lifetime++) {
      jump(61 * MIN); // past expiry: the sandbox would answer ExpiredToken to the old key
      for (let i = 0; i < 20; i++) await describe3(ec2);
      expect(assumeRoleCalls()).toBe(lifetime);
    }
    expect(sb.admin.calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(61);
  });

  it('refreshes in the advisory window before the sandbox would reject anything', async () => {
    const ec2 = newSessions().get({ roleArn: ROLE }).client(EC2Client, 'eu-west-1');
    await describe3(ec2);
    jump(50 * MIN); // 10 min left: inside the 15 min advisory window
    await Promise.all(Array.from({ length: 20 }, () => describe3(ec2)));
    expect(assumeRoleCalls()).toBe(2);
    expect(
      events.filter((e) => e.type === 'refresh-started').map((e) => e.type === 'refresh-started' && e.reason),
    ).toEqual(['initial', 'advisory']);
  });

  it('STS down through the advisory window: every request succeeds on the cached credentials, STS is left alone', async () => {
    const ec2 = newSessions().get({ roleArn: ROLE }).client(EC2Client, 'us-east-1');
    await describe3(ec2);
    sb.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });
    jump(46 * MIN);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => describe3(ec2)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
    const attempts = assumeRoleCalls();
    expect(attempts).toBe(1 + 3); // the initial call, then one refresh the STS client tried 3 times
    jump(4 * MIN); // still inside the 5 min backoff
    for (let i = 0; i < 20; i++) await describe3(ec2);
    expect(assumeRoleCalls()).toBe(attempts);
    expect(events.some((e) => e.type === 'served-stale' && e.cause === 'backoff')).toBe(true);
    sb.admin.clearFaults();
    jump(2 * MIN); // backoff over, STS back
    await describe3(ec2);
    expect(assumeRoleCalls()).toBe(attempts + 1);
    expect(events.at(-1)).toMatchObject({ type: 'refresh-succeeded' });
  });

  it('STS down past expiry: requests fail with the service’s expired-token error, then recover without a restart', async () => {
    const ec2 = newSessions().get({ roleArn: ROLE }).client(EC2Client, 'us-east-1');
    await describe3(ec2);
    sb.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });
    jump(61 * MIN);
    const error = await describe3(ec2).catch((e: unknown) => e);
    expect((error as { name?: string }).name).toBe('RequestExpired');
    sb.admin.clearFaults();
    jump(6 * MIN);
    await expect(describe3(ec2)).resolves.toBeDefined();
  });

  it("shared clients: the clock skew one account's call learns is the client's, so another account signs right the first time", async () => {
    const cache = newSessions();
    const prod = cache.get({ roleArn: ROLE });
    const staging = cache.get({ roleArn: 'arn:aws:iam::222222222222:role/RolegraphReader' });
    await prod.credentials();
    await staging.credentials();
    // The sandbox's clock runs 20 minutes ahead of this process: past the 15 minutes AWS allows.
    sb.admin.advanceClock(20 * MIN);
    try {
      const first = await describe3(prod.client(EC2Client, 'us-east-1'));
      // Rejected as skewed once; the SDK learned the offset from the answer and signed again.
      expect(first.$metadata.attempts).toBe(2);
      const other = await describe3(staging.client(EC2Client, 'us-east-1'));
      expect(other.$metadata.attempts).toBe(1);
      const offset = (prod.client(EC2Client, 'us-east-1').config as { systemClockOffset?: number })
        .systemClockOffset;
      expect(offset).toBeGreaterThan(19 * MIN);
    } finally {
      sb.admin.advanceClock(-20 * MIN);
    }
  });

  it('callerIdentity names the assumed role, through the session STS client the hooks see', async () => {
    const { accessKeyId, secretAccessKey } = sb.credentials;
    const seen: string[] = [];
    sessions = createSessionCache({
      sourceCredentials: async () => ({ accessKeyId, secretAccessKey }),
      stsEndpoint: sb.endpoint,
      refresh: { proactiveRefresh: false },
      onClient: (_client, info) => seen.push(`${info.ClientClass.name}:${info.region}`),
    });
    const s = sessions.get({ roleArn: ROLE, roleSessionName: 'whoami' });
    await expect(s.callerIdentity()).resolves.toEqual({
      account: '111111111111',
      arn: 'arn:aws:sts::111111111111:assumed-role/RolegraphReader/whoami',
      userId: expect.stringContaining(':whoami'),
    });
    await s.callerIdentity({ region: 'eu-west-1' });
    expect(seen).toEqual(['STSClient:us-east-1', 'STSClient:eu-west-1']);
    expect(sb.admin.calls({ service: 'sts', operation: 'GetCallerIdentity', account: '111111111111' })).toBe(
      2,
    );
  });
});
