import { CredentialsError } from '@rolegraph/credentials';
import { createAwsRateLimiter } from '@rolegraph/credentials/aws';
import { generateFixture } from '@rolegraph/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AdapterErrorCode,
  createEc2Loaders,
  createRegionCache,
  Ec2Error,
  type RegionalId,
} from '../src/index.js';
import { type SandboxSession, startSandboxSession } from './sandbox-session.js';

// One member account, 1500 instances per region (each with 1-2 security groups and a volume).
const fixture = generateFixture({
  accounts: 1,
  regions: ['us-east-1', 'eu-west-1'],
  instancesPerRegion: 1500,
  bucketsPerAccount: 0,
  objectsPerBucket: 0,
  seed: 4,
});
const member = fixture.accounts.find((a) => a.id !== '000000000000');
if (!member) throw new Error('no member account');
const east = member.instances.filter((i) => i.region === 'us-east-1');
const west = member.instances.filter((i) => i.region === 'eu-west-1');
const keysOf = (list: { id: string; region: string }[]): RegionalId[] =>
  list.map(({ id, region }) => ({ id, region }));

let env: SandboxSession;
const ec2Calls = (filter: { operation?: string; region?: string } = {}) =>
  env.sb.admin.calls({ service: 'ec2', account: env.accountId, ...filter });

beforeAll(async () => {
  env = await startSandboxSession(fixture);
  // Assume the role once so STS is out of the way; counters are reset before every test.
  await createEc2Loaders({ session: env.session }).instance.load({
    region: 'us-east-1',
    id: east[0]?.id ?? '',
  });
});
afterEach(() => {
  env.sb.admin.reset();
  env.sb.admin.clearFaults();
  env.sb.admin.setLatency({});
});
afterAll(async () => {
  await env?.close();
});

describe('EC2 call counts against the sandbox', () => {
  it('500 instances with their security groups and volumes in one region = 3 calls', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const wanted = east.slice(0, 500);
    const instances = await Promise.all(keysOf(wanted).map((k) => ec2.instance.load(k)));
    const groupKeys = instances.flatMap(
      (i) => i?.securityGroupIds.map((id) => ({ region: i.region, id })) ?? [],
    );
    const volumeKeys = instances.flatMap((i) => i?.volumeIds.map((id) => ({ region: i.region, id })) ?? []);
    const [groups, volumes] = await Promise.all([
      Promise.all(groupKeys.map((k) => ec2.securityGroup.load(k))),
      Promise.all(volumeKeys.map((k) => ec2.volume.load(k))),
    ]);

    expect(instances.map((i) => i?.id)).toEqual(wanted.map((i) => i.id));
    expect(instances.map((i) => i?.securityGroupIds)).toEqual(wanted.map((i) => i.securityGroupIds));
    expect(groupKeys.length).toBeGreaterThan(500);
    expect(groups.every((g) => g !== null && g.accountId === env.accountId)).toBe(true);
    expect(volumes).toHaveLength(500);
    expect(volumes.map((v) => v?.attachedInstanceIds)).toEqual(wanted.map((i) => [i.id]));

    expect(ec2Calls({ operation: 'DescribeInstances' })).toBe(1);
    expect(ec2Calls({ operation: 'DescribeSecurityGroups' })).toBe(1);
    expect(ec2Calls({ operation: 'DescribeVolumes' })).toBe(1);
    expect(ec2Calls()).toBe(3);
  });

  it('1500 ids in one region = 2 DescribeInstances', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const results = await ec2.instance.loadMany(keysOf(east));
    expect(results.map((r) => (r instanceof Error ? r : r?.id))).toEqual(east.map((i) => i.id));
    expect(ec2Calls({ operation: 'DescribeInstances', region: 'us-east-1' })).toBe(2);
    expect(ec2Calls()).toBe(2);
  });

  it('ids of two regions in one batch = 1 DescribeInstances per region', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const results = await ec2.instance.loadMany(keysOf([...east.slice(0, 50), ...west.slice(0, 50)]));
    expect(results.filter((r) => r !== null && !(r instanceof Error))).toHaveLength(100);
    expect(ec2Calls({ region: 'us-east-1' })).toBe(1);
    expect(ec2Calls({ region: 'eu-west-1' })).toBe(1);
  });

  it('10 ids with 3 unknown = 7 instances and 3 nulls in 1 call (the instance-id filter omits unknown ids)', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const unknown = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];
    const known = east.slice(0, 7).map((i) => i.id);
    const asked = [
      known[0],
      unknown[0],
      known[1],
      known[2],
      unknown[1],
      known[3],
      known[4],
      known[5],
      unknown[2],
      known[6],
    ];
    const results = await ec2.instance.loadMany(asked.map((id) => ({ region: 'us-east-1', id: id ?? '' })));
    expect(results.map((r) => (r instanceof Error ? r : (r?.id ?? null)))).toEqual(
      asked.map((id) => (unknown.includes(id ?? '') ? null : id)),
    );
    expect(ec2Calls({ operation: 'DescribeInstances' })).toBe(1);
  });

  it('450 ids with 5 unknown = 1 InstanceIds call + 3 filter calls of at most 200 (EC2 refuses more values)', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const known = east.slice(0, 445).map((i) => i.id);
    const unknown = Array.from({ length: 5 }, (_, k) => `i-0000000000000${k}fff`);
    const results = await ec2.instance.loadMany(
      [...known, ...unknown].map((id) => ({ region: 'us-east-1', id })),
    );
    expect(results.filter((r) => r === null)).toHaveLength(5);
    expect(results.slice(0, 445).map((r) => (r instanceof Error ? r : r?.id))).toEqual(known);
    expect(ec2Calls({ operation: 'DescribeInstances' })).toBe(4);
  });

  it('10 ids with 3 malformed = 7 instances and 3 nulls in 1 call', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const asked = [...east.slice(0, 7).map((i) => i.id), 'i-xyz', 'i-123', 'not-an-id'];
    const results = await ec2.instance.loadMany(asked.map((id) => ({ region: 'us-east-1', id })));
    expect(results.filter((r) => r === null)).toHaveLength(3);
    expect(results.slice(0, 7).map((r) => (r instanceof Error ? r : r?.id))).toEqual(asked.slice(0, 7));
    expect(ec2Calls()).toBe(1);
  });

  it('unknown security groups and volumes are null, found ones kept, in 1 call each', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const group = member.securityGroups.find((g) => g.region === 'us-east-1');
    const volume = member.volumes.find((v) => v.region === 'us-east-1');
    const [groups, volumes] = await Promise.all([
      ec2.securityGroup.loadMany(
        [group?.id ?? '', 'sg-0000000000000000f'].map((id) => ({ region: 'us-east-1', id })),
      ),
      ec2.volume.loadMany(
        [volume?.id ?? '', 'vol-0000000000000000f'].map((id) => ({ region: 'us-east-1', id })),
      ),
    ]);
    expect(groups).toMatchObject([{ id: group?.id, name: group?.name }, null]);
    expect(volumes).toMatchObject([{ id: volume?.id, sizeGiB: volume?.sizeGiB }, null]);
    expect(ec2Calls({ operation: 'DescribeSecurityGroups' })).toBe(1);
    expect(ec2Calls({ operation: 'DescribeVolumes' })).toBe(1);
  });

  it('listInstances pages with MaxResults/NextToken, filters, and primes the instance loader', async () => {
    env.sb.admin.reset();
    const ec2 = createEc2Loaders({ session: env.session });
    const running = east.filter((i) => i.state === 'running');
    const first = await ec2.listInstances({
      region: 'us-east-1',
      filter: { states: ['running'] },
      first: 300,
    });
    expect(first.items).toHaveLength(300);
    expect(first.hasNextPage).toBe(true);
    const second = await ec2.listInstances({
      region: 'us-east-1',
      filter: { states: ['running'] },
      first: 1000,
      after: first.endCursor,
    });
    const listed = [...first.items, ...second.items].map((i) => i.id);
    expect(new Set(listed)).toEqual(new Set(running.map((i) => i.id)));
    expect(ec2Calls()).toBe(2);
    const loaded = await ec2.instance.loadMany(listed.map((id) => ({ region: 'us-east-1', id })));
    expect(loaded.every((i) => i !== null && !(i instanceof Error) && i.state === 'running')).toBe(true);
    expect(ec2Calls()).toBe(2);

    const team = east.find((i) => i.tags.Team !== undefined);
    const tagged = await ec2.listInstances({
      region: 'us-east-1',
      filter: {
        tags: [{ key: 'Team', values: [team?.tags.Team ?? ''] }, { key: 'Environment' }],
        types: [team?.type ?? ''],
      },
      first: 1000,
    });
    expect(tagged.items.map((i) => i.id).sort()).toEqual(
      east
        .filter((i) => i.tags.Team === team?.tags.Team && i.type === team?.type)
        .map((i) => i.id)
        .sort(),
    );
    const byIds = await ec2.listInstances({ region: 'us-east-1', filter: { ids: [east[3]?.id ?? ''] } });
    expect(byIds.items.map((i) => i.id)).toEqual([east[3]?.id]);
    expect(ec2Calls()).toBe(4);
  });

  it('enabled regions cost one DescribeRegions per account per TTL, shared by concurrent callers', async () => {
    env.sb.admin.reset();
    let now = 0;
    const regions = createRegionCache({ ttlMs: 60_000, now: () => now });
    const answers = await Promise.all([1, 2, 3].map(() => regions.enabledRegions(env.session)));
    expect(answers).toEqual([1, 2, 3].map(() => ['eu-west-1', 'us-east-1']));
    await regions.enabledRegions(env.session);
    expect(ec2Calls({ operation: 'DescribeRegions' })).toBe(1);
    now = 60_000;
    await regions.enabledRegions(env.session);
    expect(ec2Calls({ operation: 'DescribeRegions' })).toBe(2);
  });
});

describe('EC2 errors against the sandbox', () => {
  it('a throttled region rejects only its own keys with a retryable AWS_THROTTLED', async () => {
    const session = env.singleAttempt();
    env.sb.admin.setFault({
      service: 'ec2',
      operation: 'DescribeInstances',
      region: 'eu-west-1',
      error: 'throttle',
    });
    const ec2 = createEc2Loaders({ session });
    const results = await ec2.instance.loadMany(keysOf([...east.slice(0, 3), ...west.slice(0, 3)]));
    expect(results.slice(0, 3).map((r) => (r instanceof Error ? r : r?.id))).toEqual(
      east.slice(0, 3).map((i) => i.id),
    );
    for (const failed of results.slice(3)) {
      expect(failed).toBeInstanceOf(Ec2Error);
      const error = failed as Ec2Error;
      expect(error).toMatchObject({
        code: AdapterErrorCode.AWS_THROTTLED,
        accountId: env.accountId,
        region: 'eu-west-1',
        awsCode: 'RequestLimitExceeded',
        retryable: true,
      });
    }
    expect(results[3]).toBe(results[4]);
  });

  // The SDK takes an EC2 error's request id from the x-amzn-RequestId header, which the sandbox sends as EC2 does.
  it('EC2 errors carry the AWS request id', async () => {
    const session = env.singleAttempt();
    env.sb.admin.setFault({ service: 'ec2', operation: 'DescribeInstances', error: 'throttle' });
    const error = await createEc2Loaders({ session })
      .instance.load({ region: 'us-east-1', id: east[0]?.id ?? '' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: AdapterErrorCode.AWS_THROTTLED });
    expect((error as Ec2Error).requestId).toMatch(/\S+/);
  });

  it('maps access denied, unavailable and invalid requests to typed codes', async () => {
    const session = env.singleAttempt();
    env.sb.admin.setFault({
      service: 'ec2',
      operation: 'DescribeVolumes',
      error: { code: 'UnauthorizedOperation', status: 403 },
    });
    env.sb.admin.setFault({ service: 'ec2', operation: 'DescribeSecurityGroups', error: 'unavailable' });
    const ec2 = createEc2Loaders({ session });
    await expect(ec2.volume.load({ region: 'us-east-1', id: 'vol-0123456789abcdef0' })).rejects.toMatchObject(
      {
        code: AdapterErrorCode.AWS_ACCESS_DENIED,
        awsCode: 'UnauthorizedOperation',
        retryable: false,
        region: 'us-east-1',
        accountId: env.accountId,
      },
    );
    await expect(
      ec2.securityGroup.load({ region: 'us-east-1', id: 'sg-0123456789abcdef0' }),
    ).rejects.toMatchObject({
      code: AdapterErrorCode.AWS_UNAVAILABLE,
      awsCode: 'Unavailable',
      retryable: true,
    });
    await expect(
      ec2.listInstances({ region: 'us-east-1', first: 5, after: 'garbage' }),
    ).rejects.toMatchObject({
      code: AdapterErrorCode.AWS_INVALID_REQUEST,
      awsCode: 'InvalidPaginationToken',
    });
  });

  it('a session that cannot assume its role gives CREDENTIALS_UNAVAILABLE wrapping the CredentialsError', async () => {
    const session = env.singleAttempt();
    env.sb.admin.setAccountEnabled(env.accountId, false);
    try {
      const error = await createEc2Loaders({ session })
        .instance.load({ region: 'us-east-1', id: east[0]?.id ?? '' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Ec2Error);
      expect(error).toMatchObject({
        code: AdapterErrorCode.CREDENTIALS_UNAVAILABLE,
        accountId: env.accountId,
        region: 'us-east-1',
      });
      const cause = (error as Ec2Error).cause;
      expect(cause).toBeInstanceOf(CredentialsError);
      expect((error as Ec2Error).retryable).toBe((cause as CredentialsError).retryable);
      expect(ec2Calls()).toBe(0);
    } finally {
      env.sb.admin.setAccountEnabled(env.accountId, true);
    }
  });

  it('a signal that already fired sends nothing; aborting an in-flight call ends it with ABORTED', async () => {
    env.sb.admin.reset();
    const fired = new AbortController();
    fired.abort();
    const early = createEc2Loaders({ session: env.session, signal: fired.signal });
    await expect(early.instance.load({ region: 'us-east-1', id: east[0]?.id ?? '' })).rejects.toMatchObject({
      code: AdapterErrorCode.ABORTED,
    });
    await expect(early.listInstances({ region: 'us-east-1' })).rejects.toMatchObject({
      code: AdapterErrorCode.ABORTED,
    });
    expect(ec2Calls()).toBe(0);

    env.sb.admin.setLatency({ ec2: { fixedMs: 2_000 } });
    const controller = new AbortController();
    const late = createEc2Loaders({ session: env.session, signal: controller.signal });
    const started = Date.now();
    const pending = late.instance.loadMany(keysOf([...east.slice(0, 2), ...west.slice(0, 2)]));
    setTimeout(() => controller.abort(), 100);
    const results = await pending;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(results.map((r) => (r instanceof Ec2Error ? r.code : r))).toEqual(
      Array(4).fill(AdapterErrorCode.ABORTED),
    );
    expect(ec2Calls()).toBeLessThanOrEqual(2);
  });
});

describe('id chunks under the sandbox throttling: they wait for their bucket instead of going at once', () => {
  // A small bucket, so one large lookup needs several refills; the limiter mirrors it exactly.
  const spec = { burst: 4, refillPerSecond: 5 };
  afterEach(() => {
    env.sb.admin.setThrottling(false);
  });
  const unknownIds = Array.from({ length: 100 }, (_, i) => `i-${(0xf0000000 + i).toString(16)}`);

  it('1500 ids (100 unknown) by the loader: 10 DescribeInstances, zero throttled with no retry allowed', async () => {
    env.sb.admin.setThrottling({ ec2: spec, sts: false, s3: false });
    env.sb.admin.reset();
    const limits = createAwsRateLimiter({ limits: { ec2: { nonMutating: spec } } });
    const ec2 = createEc2Loaders({ session: env.singleAttempt(), limits });
    const unknown = unknownIds.map((id) => ({ region: 'us-east-1', id }));
    // 50 unknown ids in each chunk of the batch (1000 + 500).
    const wanted = [...unknown.slice(0, 50), ...keysOf(east.slice(0, 1400)), ...unknown.slice(50)];
    const found = await ec2.instance.loadMany(wanted);
    expect(found.filter((f) => f instanceof Error)).toEqual([]);
    expect(found.filter((f) => f !== null)).toHaveLength(1400);
    // 2 id-form chunks (1000 + 500) fail on the unknown ids, then 5 + 3 filter chunks of 200.
    expect(ec2Calls({ operation: 'DescribeInstances' })).toBe(10);
    expect(limits.stats()).toMatchObject({ throttled: 0 });
    expect(limits.stats().waited).toBeGreaterThan(0);
  });

  it('listInstances by 1000 ids: 5 chunks of 200, paced, all answered; without the limiter the same lookup is throttled', async () => {
    env.sb.admin.setThrottling({ ec2: spec, sts: false, s3: false });
    env.sb.admin.reset();
    const limits = createEc2Loaders({
      session: env.singleAttempt(),
      limits: createAwsRateLimiter({ limits: { ec2: { nonMutating: spec } } }),
    });
    const ids = east.slice(0, 1000).map((i) => i.id);
    const page = await limits.listInstances({ region: 'us-east-1', filter: { ids }, first: 1000 });
    expect(page.items).toHaveLength(1000);
    expect(ec2Calls({ operation: 'DescribeInstances' })).toBe(5);

    // The control: the same 5 calls at once against a bucket of 4 that barely refills.
    env.sb.admin.setThrottling({ ec2: { burst: 4, refillPerSecond: 0.1 }, sts: false, s3: false });
    const unlimited = createEc2Loaders({ session: env.singleAttempt() });
    const failure = await unlimited
      .listInstances({ region: 'us-east-1', filter: { ids }, first: 1000 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Ec2Error);
    expect((failure as Ec2Error).code).toBe(AdapterErrorCode.AWS_THROTTLED);
  });
});
