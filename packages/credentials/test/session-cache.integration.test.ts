import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCache, type SessionEvent, sessionOfCall } from '../src/index.js';
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

  it('resize: a larger bound keeps every session (no new AssumeRole), a smaller one retires the least recently used', async () => {
    const sessions = createSessionCache({ ...cacheOptions(), maxSessions: 2 });
    const roles = ['111122223333', '444455556666', '777788889999'].map((id) => ({
      roleArn: `arn:aws:iam::${id}:role/Reader`,
    }));
    const [a, b, c] = roles.map((r) => sessions.get(r));
    // Past the bound of 2: the first one was retired.
    expect(a?.status().retired).toBe(true);
    expect(sessions.size).toBe(2);
    sessions.resize(4);
    expect(sessions.maxSessions).toBe(4);
    for (const s of [b, c]) await s?.credentials();
    const calls = aws.assumeRoleCalls.length;
    // The same sessions are handed out after the resize, with their credentials: no AssumeRole.
    expect(sessions.get(roles[1] as { roleArn: string })).toBe(b);
    expect(sessions.get(roles[2] as { roleArn: string })).toBe(c);
    await sessions.get(roles[2] as { roleArn: string }).credentials();
    expect(aws.assumeRoleCalls.length).toBe(calls);
    expect(sessions.sessions()).toEqual([c, b]);
    // Room for 4 now: a third session joins without retiring anyone.
    const again = sessions.get(roles[0] as { roleArn: string });
    expect(sessions.size).toBe(3);
    expect([b, c].map((s) => s?.status().retired)).toEqual([false, false]);
    // Down to 1: the two least recently used are retired, never closed (holders keep working).
    sessions.resize(1);
    expect(sessions.sessions()).toEqual([again]);
    expect([b, c].map((s) => s?.status().retired)).toEqual([true, true]);
    expect((await c?.credentials())?.accessKeyId).toBeTruthy();
    expect(() => sessions.resize(0)).toThrow(/maxSessions must be a positive integer/);
    sessions.close();
  });

  it("resize keeps each session's idle time", () => {
    let t = 1_000_000;
    const sessions = createSessionCache({
      ...cacheOptions(),
      idleTtlMs: 1000,
      refresh: { proactiveRefresh: false, now: () => t },
    });
    const role = { roleArn: 'arn:aws:iam::111122223333:role/Reader' };
    const session = sessions.get(role);
    t += 600;
    sessions.resize(10);
    t += 500; // 1,100 ms idle in all: past the 1,000 ms TTL only if the resize kept the 600
    expect(sessions.peek(role)).toBeUndefined();
    sessions.resize(20); // purges it on the way, as the timer would
    expect(session.status().retired).toBe(true);
    sessions.close();
  });

  it("sessions share one SDK client per class and region; each call is signed with its own session's key", async () => {
    const made: string[] = [];
    const seenAccounts: Array<string | undefined> = [];
    const sessions = createSessionCache({
      ...cacheOptions(),
      onClient: (client, info) => {
        made.push(`${info.ClientClass.name} ${info.region}`);
        (client as EC2Client).middlewareStack.add(
          (next, context) => (args) => {
            seenAccounts.push(sessionOfCall(context)?.accountId);
            return next(args);
          },
          { step: 'initialize', name: 'testAccountOfCall' },
        );
      },
    });
    const a = sessions.get({ roleArn: READER });
    const b = sessions.get({ roleArn: 'arn:aws:iam::444455556666:role/Reader' });
    const [keyA, keyB] = [(await a.credentials()).accessKeyId, (await b.credentials()).accessKeyId];
    expect(keyA).not.toBe(keyB);
    // One command object sent by both sessions at once, as a loop over accounts may do.
    const command = new DescribeRegionsCommand({});
    const sendBoth = () =>
      Promise.all([
        a.client(EC2Client, 'us-east-1').send(command),
        b.client(EC2Client, 'us-east-1').send(command),
        a.client(EC2Client, 'us-east-1').send(command),
        b.client(EC2Client, 'us-east-1').send(command),
      ]);
    await sendBoth();
    await sendBoth();
    expect(made).toEqual(['EC2Client us-east-1']);
    const signers = aws.ec2Calls.map((c) => c.accessKeyId).sort();
    expect(signers).toEqual([keyA, keyA, keyA, keyA, keyB, keyB, keyB, keyB].sort());
    expect(seenAccounts.sort()).toEqual([...Array(4).fill('111122223333'), ...Array(4).fill('444455556666')]);
    // A session's client is its own view: it stays the same object, and destroy() on it
    // leaves the shared client working for the other session.
    expect(a.client(EC2Client, 'us-east-1')).toBe(a.client(EC2Client, 'us-east-1'));
    expect(a.client(EC2Client, 'us-east-1')).not.toBe(b.client(EC2Client, 'us-east-1'));
    expect(a.client(EC2Client, 'us-east-1')).toBeInstanceOf(EC2Client);
    a.client(EC2Client, 'us-east-1').destroy();
    await b.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}));
    // Another region is another client; a session's status counts the clients it used.
    await a.client(EC2Client, 'eu-west-1').send(new DescribeRegionsCommand({}));
    expect(made).toEqual(['EC2Client us-east-1', 'EC2Client eu-west-1']);
    expect([a.status().clients, b.status().clients]).toEqual([2, 1]);
    // Closing one session fails its own calls only, through the client it still holds too.
    const heldByA = a.client(EC2Client, 'eu-west-1');
    a.close();
    const before = aws.ec2Calls.length;
    await expect(heldByA.send(new DescribeRegionsCommand({}))).rejects.toMatchObject({
      code: 'SESSION_CLOSED',
    });
    expect(aws.ec2Calls.length).toBe(before);
    await expect(
      b.client(EC2Client, 'eu-west-1').send(new DescribeRegionsCommand({})),
    ).resolves.toBeDefined();
    sessions.close();
  });

  it('shareClients: false gives each session SDK clients of its own', async () => {
    const made: string[] = [];
    const sessions = createSessionCache({
      ...cacheOptions(),
      shareClients: false,
      onClient: (_client, info) => made.push(`${info.ClientClass.name} ${info.region}`),
    });
    const a = sessions.get({ roleArn: READER });
    const b = sessions.get({ roleArn: 'arn:aws:iam::444455556666:role/Reader' });
    await a.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}));
    await b.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}));
    expect(made).toEqual(['EC2Client us-east-1', 'EC2Client us-east-1']);
    const signers = aws.ec2Calls.map((c) => c.accessKeyId);
    expect(signers).toEqual([(await a.credentials()).accessKeyId, (await b.credentials()).accessKeyId]);
    sessions.close();
  });

  it('a shared SDK client refuses a command sent outside any session', async () => {
    let shared: EC2Client | undefined;
    const sessions = createSessionCache({
      ...cacheOptions(),
      onClient: (client) => {
        shared = client as EC2Client;
      },
    });
    sessions.get({ roleArn: READER }).client(EC2Client, 'us-east-1');
    await expect(shared?.send(new DescribeRegionsCommand({}))).rejects.toThrow(/outside its session/);
    expect(aws.ec2Calls).toHaveLength(0);
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

  it('is bounded: past maxSessions the least recently used session is retired, never broken', async () => {
    const sessions = createSessionCache({ ...cacheOptions(), maxSessions: 2 });
    const first = sessions.get({ roleArn: 'arn:aws:iam::111111111111:role/R' });
    const ec2 = first.client(EC2Client, 'us-east-1');
    await ec2.send(new DescribeRegionsCommand({}));
    sessions.get({ roleArn: 'arn:aws:iam::222222222222:role/R' });
    sessions.get({ roleArn: 'arn:aws:iam::333333333333:role/R' });
    expect(sessions.size).toBe(2);
    expect(sessions.peek({ roleArn: 'arn:aws:iam::111111111111:role/R' })).toBeUndefined();
    // Its holder goes on: same client, same cached credentials, no new AssumeRole.
    expect(first.status().retired).toBe(true);
    await expect(ec2.send(new DescribeRegionsCommand({}))).resolves.toBeDefined();
    expect(aws.assumeRoleCalls).toHaveLength(1);
    sessions.close();
    await expect(sessions.get({ roleArn: READER }).credentials()).resolves.toBeDefined();
  });

  it('more roles in a cycle than maxSessions: every request of every cycle answers', async () => {
    const sessions = createSessionCache({ ...cacheOptions(), maxSessions: 3 });
    const roles = Array.from({ length: 8 }, (_, i) => ({
      roleArn: `arn:aws:iam::${String(100000000000 + i)}:role/R`,
    }));
    for (let cycle = 0; cycle < 3; cycle++) {
      const held = roles.map((role) => sessions.get(role));
      const answers = await Promise.allSettled(
        held.map((s) => s.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}))),
      );
      expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
    }
    expect(sessions.size).toBe(3);
    sessions.close();
  });

  it('a get after idleTtlMs gives a new session; the idle one is retired and its timer stopped', async () => {
    let t = 1_000_000;
    aws.clock = () => t;
    const pending = new Set<number>();
    let nextHandle = 1;
    const timers = {
      setTimeout: () => {
        const handle = nextHandle++;
        pending.add(handle);
        return handle;
      },
      clearTimeout: (handle: unknown) => {
        pending.delete(handle as number);
      },
    };
    const sessions = createSessionCache({
      ...cacheOptions(),
      idleTtlMs: 60_000,
      recoveryProbe: false,
      refresh: { proactiveRefresh: true, now: () => t, timers },
    });
    try {
      const first = sessions.get({ roleArn: READER });
      await first.credentials();
      expect(pending.size).toBe(1); // the proactive refresh timer
      t += 30_000;
      expect(sessions.get({ roleArn: READER })).toBe(first); // use refreshes idle time
      t += 59_000;
      expect(sessions.get({ roleArn: READER })).toBe(first);
      t += 61_000;
      const second = sessions.get({ roleArn: READER });
      expect(second).not.toBe(first);
      expect(first.status().retired).toBe(true);
      expect(pending.size).toBe(0);
      // Retired is not closed: a holder still gets credentials.
      await expect(first.credentials()).resolves.toMatchObject({ accessKeyId: expect.any(String) });
    } finally {
      aws.clock = Date.now;
      sessions.close();
    }
  });

  it('a held client used every few seconds across 3 idle periods and 2 lifetimes never fails or retires', async () => {
    let t = 1_000_000;
    aws.clock = () => t;
    aws.durationSeconds = 900;
    const sessions = createSessionCache({
      ...cacheOptions(),
      idleTtlMs: 60_000,
      refresh: { proactiveRefresh: false, now: () => t },
    });
    try {
      // The recipe: one get, then only requests through the client.
      const s = sessions.get({ roleArn: READER });
      const ec2 = s.client(EC2Client, 'us-east-1');
      const end = t + 2 * 900_000 + 60_000;
      let requests = 0;
      while (t < end) {
        await ec2.send(new DescribeRegionsCommand({}));
        requests++;
        t += 5_000;
      }
      expect(requests).toBeGreaterThan(360);
      expect(s.status().retired).toBe(false);
      expect(sessions.peek({ roleArn: READER })).toBe(s);
      // 900 s credentials are refreshed as their 5-minute advisory window opens, every 600 s:
      // at 0, 600, 1200 and 1800 s of the 1860 s walked.
      expect(aws.assumeRoleCalls).toHaveLength(4);
    } finally {
      aws.clock = Date.now;
      aws.durationSeconds = undefined;
      sessions.close();
    }
  });

  it('delete and close make a session fail for its holders with SESSION_CLOSED', async () => {
    const sessions = createSessionCache(cacheOptions());
    const s = sessions.get({ roleArn: READER });
    expect(sessions.delete({ roleArn: READER })).toBe(true);
    await expect(s.credentials()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    const other = sessions.get({ roleArn: READER });
    sessions.close();
    expect(() => other.client(EC2Client, 'us-east-1')).toThrow(/closed/);
  });

  it('prepare validates once and hands out the same session as get', () => {
    const sessions = createSessionCache(cacheOptions());
    const prod = sessions.prepare({
      roleArn: READER,
      sourceRole: { roleArn: 'arn:aws:iam::999999999999:role/Hub' },
    });
    expect(prod()).toBe(prod());
    expect(prod()).toBe(
      sessions.get({ roleArn: READER, sourceRole: { roleArn: 'arn:aws:iam::999999999999:role/Hub' } }),
    );
    expect(() => sessions.prepare({ roleArn: 'arn:aws:iam::1:role/x' })).toThrow(TypeError);
    expect(() => sessions.prepare({ roleArn: READER, sourceRole: { roleArn: 'not-an-arn' } })).toThrow(
      /roleArn/,
    );
    sessions.close();
  });

  it('clientConfig and onClient see every client once', async () => {
    const seen: string[] = [];
    const sessions = createSessionCache({
      ...cacheOptions(),
      clientConfig: (_ClientClass, region) => ({ customUserAgent: `rolegraph-test-${region}` }),
      onClient: (client, info) => {
        seen.push(`${info.ClientClass.name}:${info.region}`);
        expect((client as { config: object }).config).toBeDefined();
      },
    });
    const s = sessions.get({ roleArn: READER });
    s.client(EC2Client, 'us-east-1');
    s.client(EC2Client, 'us-east-1');
    s.client(EC2Client, 'eu-west-1');
    // Another session in the same regions makes no client: they are shared.
    const other = sessions.get({ roleArn: 'arn:aws:iam::444455556666:role/Reader' });
    other.client(EC2Client, 'us-east-1');
    other.client(EC2Client, 'eu-west-1');
    expect(seen).toEqual(['EC2Client:us-east-1', 'EC2Client:eu-west-1']);
    const east = s.client(EC2Client, 'us-east-1');
    expect(await east.config.customUserAgent).toEqual([['rolegraph-test-us-east-1']]);
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
