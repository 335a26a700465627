import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCache, type SessionEvent } from '../src/index.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';

const base = { accessKeyId: 'AKIABASEPRINCIPAL', secretAccessKey: 'base-secret-value' };
const READER = 'arn:aws:iam::111122223333:role/Reader';
let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});
afterEach(() => {
  aws.assumeRoleCalls.length = 0;
  aws.ec2Calls.length = 0;
  aws.rejectedKeys.clear();
});

const cacheOptions = () => ({
  sourceCredentials: async () => base,
  stsEndpoint: aws.endpoint,
  clientDefaults: { endpoint: aws.endpoint },
  refresh: { proactiveRefresh: false },
});

describe('createSessionCache', () => {
  it('the original recipe in three lines: get a session, get a client, send', async () => {
    const sessions = createSessionCache(cacheOptions());
    const s = sessions.get({ roleArn: READER });
    const out = await s.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}));
    expect(out.Regions?.[0]?.RegionName).toBe('us-east-1');
    expect(s.accountId).toBe('111122223333');
    sessions.close();
  });

  it('keys canonically: field, tag and policy order do not matter; any real difference does', () => {
    const sessions = createSessionCache(cacheOptions());
    const a = sessions.get({
      roleArn: READER,
      tags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
      policyArns: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B'],
    });
    const b = sessions.get({
      policyArns: ['arn:aws:iam::aws:policy/B', 'arn:aws:iam::aws:policy/A'],
      tags: [
        { key: 'b', value: '2' },
        { key: 'a', value: '1' },
      ],
      roleArn: READER,
    });
    expect(b).toBe(a);
    const variants = [
      { roleArn: READER, externalId: 'other-id' },
      { roleArn: READER, roleSessionName: 'named' },
      { roleArn: READER, stsRegion: 'eu-west-1' },
      { roleArn: READER, sourceIdentity: 'alice' },
      { roleArn: READER, sourceCredentials: async () => base },
      { roleArn: READER, sourceRole: { roleArn: 'arn:aws:iam::999999999999:role/Hub' } },
    ];
    const keys = new Set([a.key, ...variants.map((v) => sessions.get(v).key)]);
    expect(keys.size).toBe(variants.length + 1);
    sessions.close();
  });

  it('concurrent first requests for the same role share one session and one AssumeRole', async () => {
    const sessions = createSessionCache(cacheOptions());
    await Promise.all(
      Array.from({ length: 200 }, () =>
        sessions.get({ roleArn: READER }).client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({})),
      ),
    );
    expect(sessions.size).toBe(1);
    expect(aws.assumeRoleCalls).toHaveLength(1);
    sessions.close();
  });

  it('caches clients per (class, region) and applies client defaults', async () => {
    const sessions = createSessionCache(cacheOptions());
    const s = sessions.get({ roleArn: READER });
    const east = s.client(EC2Client, 'us-east-1');
    expect(s.client(EC2Client, 'us-east-1')).toBe(east);
    expect(s.client(EC2Client, 'eu-west-1')).not.toBe(east);
    expect(s.status().clients).toBe(2);
    expect(await east.config.region()).toBe('us-east-1');
    expect(() => s.client(EC2Client, '')).toThrow(TypeError);
    sessions.close();
  });

  it('is bounded: the least recently used session is closed when full', async () => {
    const sessions = createSessionCache({ ...cacheOptions(), maxSessions: 2 });
    const first = sessions.get({ roleArn: 'arn:aws:iam::111111111111:role/R' });
    sessions.get({ roleArn: 'arn:aws:iam::222222222222:role/R' });
    sessions.get({ roleArn: 'arn:aws:iam::333333333333:role/R' });
    expect(sessions.size).toBe(2);
    expect(sessions.peek({ roleArn: 'arn:aws:iam::111111111111:role/R' })).toBeUndefined();
    await expect(first.credentials()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    sessions.close();
  });

  it('closes sessions that sat idle past idleTtlMs', async () => {
    let t = 1_000_000;
    const sessions = createSessionCache({
      ...cacheOptions(),
      idleTtlMs: 60_000,
      refresh: { proactiveRefresh: false, now: () => t },
    });
    const first = sessions.get({ roleArn: READER });
    t += 30_000;
    expect(sessions.get({ roleArn: READER })).toBe(first); // use refreshes idle time
    t += 59_000;
    expect(sessions.get({ roleArn: READER })).toBe(first);
    t += 61_000;
    const second = sessions.get({ roleArn: READER });
    expect(second).not.toBe(first);
    await expect(first.credentials()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    sessions.close();
  });

  it('an expired-credentials rejection invalidates exactly the key used and the request succeeds', async () => {
    const events: SessionEvent[] = [];
    const sessions = createSessionCache({ ...cacheOptions(), onEvent: (e) => events.push(e) });
    const s = sessions.get({ roleArn: READER });
    const ec2 = s.client(EC2Client, 'us-east-1');
    await ec2.send(new DescribeRegionsCommand({}));
    const firstKey = aws.ec2Calls[0]?.accessKeyId ?? '';
    aws.rejectedKeys.add(firstKey);
    const out = await ec2.send(new DescribeRegionsCommand({}));
    expect(out.Regions).toHaveLength(1);
    expect(aws.assumeRoleCalls).toHaveLength(2);
    expect(aws.ec2Calls.map((c) => c.accessKeyId)).toEqual([
      firstKey,
      firstKey,
      expect.not.stringMatching(firstKey),
    ]);
    const reasons = events.flatMap((e) => (e.event.type === 'refresh-started' ? [e.event.reason] : []));
    expect(reasons).toEqual(['initial', 'invalidated']);
    expect(events.every((e) => e.roleArn === READER && e.accountId === '111122223333')).toBe(true);
    sessions.close();
  });

  it('a role reached through a hub reuses the hub session', async () => {
    const sessions = createSessionCache(cacheOptions());
    const hub = { roleArn: 'arn:aws:iam::999999999999:role/Hub' };
    const a = sessions.get({ roleArn: READER, sourceRole: hub });
    const b = sessions.get({ roleArn: 'arn:aws:iam::444455556666:role/Reader', sourceRole: hub });
    await Promise.all([a.credentials(), b.credentials()]);
    const roles = aws.assumeRoleCalls.map((p) => p.get('RoleArn'));
    expect(roles.filter((r) => r === hub.roleArn)).toHaveLength(1);
    expect(sessions.size).toBe(3);
    sessions.close();
  });

  it('status names the role and never holds key material', async () => {
    const sessions = createSessionCache(cacheOptions());
    const s = sessions.get({ roleArn: READER, roleSessionName: 'status-check' });
    const creds = await s.credentials();
    const text = JSON.stringify(s.status());
    expect(s.status()).toMatchObject({
      roleArn: READER,
      accountId: '111122223333',
      roleSessionName: 'status-check',
    });
    expect(s.status().credentials.state).toBe('fresh');
    expect(text).not.toContain(creds.accessKeyId);
    expect(text).not.toContain(creds.secretAccessKey);
    expect(text).not.toContain(creds.sessionToken ?? 'no-token');
    sessions.close();
  });

  it('refuses bad cache options', () => {
    expect(() => createSessionCache({ maxSessions: 0 })).toThrow(/maxSessions/);
    expect(() => createSessionCache({ idleTtlMs: -5 })).toThrow(/idleTtlMs/);
  });
});
