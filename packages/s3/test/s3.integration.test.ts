import { type ClientConstructor, CredentialsError, type Session } from '@rolegraph/credentials';
import { type FixtureBucket, generateFixture } from '@rolegraph/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterErrorCode, createS3Loaders, S3Error } from '../src/index.js';
import { type SandboxSession, startSandboxSession } from './sandbox-session.js';

// One member account with 200 buckets spread over three regions, cycling through every
// combination of tags / encryption / public access block / policy.
const fixture = generateFixture({
  accounts: 1,
  regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
  instancesPerRegion: 0,
  bucketsPerAccount: 200,
  objectsPerBucket: 7,
  seed: 4,
});
const member = fixture.accounts.find((a) => a.id !== '000000000000');
if (!member) throw new Error('no member account');
const buckets: FixtureBucket[] = member.buckets;
const names = buckets.map((b) => b.name);

let env: SandboxSession;
const s3Calls = (filter: { operation?: string; region?: string } = {}) =>
  env.sb.admin.calls({ service: 's3', account: env.accountId, ...filter });

/** The session, with every client's `send` counted while in flight. */
function measured(session: Session) {
  const stats = { inFlight: 0, peak: 0, sent: 0 };
  const wrapped: Session = {
    ...session,
    client<C extends object>(ClientClass: ClientConstructor<C>, region: string): C {
      const client = session.client(ClientClass, region) as C & {
        send(...args: unknown[]): Promise<unknown>;
      };
      return new Proxy(client, {
        get(target, property, receiver) {
          if (property !== 'send') return Reflect.get(target, property, receiver);
          return async (...args: unknown[]) => {
            stats.sent++;
            stats.inFlight++;
            stats.peak = Math.max(stats.peak, stats.inFlight);
            try {
              return await target.send(...args);
            } finally {
              stats.inFlight--;
            }
          };
        },
      });
    },
  };
  return { session: wrapped, stats };
}

beforeAll(async () => {
  env = await startSandboxSession(fixture);
  await createS3Loaders({ session: env.session }).listBuckets({ first: 1 });
});
afterEach(() => {
  env.sb.admin.reset();
  env.sb.admin.clearFaults();
  env.sb.admin.setLatency({});
});
afterAll(async () => {
  await env?.close();
});

describe('S3 call counts against the sandbox', () => {
  it('200 listed buckets and their regions = 1 ListBuckets, 0 HeadBucket/GetBucketLocation', async () => {
    env.sb.admin.reset();
    const s3 = createS3Loaders({ session: env.session });
    const page = await s3.listBuckets({ first: 200 });
    expect(page.items.map((b) => b.name).sort()).toEqual([...names].sort());
    expect(page.hasNextPage).toBe(false);
    const regions = await s3.region.loadMany(names);
    expect(regions).toEqual(buckets.map((b) => b.region));
    expect(page.items.every((b) => b.accountId === env.accountId && b.creationDate instanceof Date)).toBe(
      true,
    );
    expect(s3Calls({ operation: 'ListBuckets' })).toBe(1);
    expect(s3Calls({ operation: 'HeadBucket' })).toBe(0);
    expect(s3Calls({ operation: 'GetBucketLocation' })).toBe(0);
    expect(s3Calls()).toBe(1);
  });

  it('pages ListBuckets with MaxBuckets / ContinuationToken and Prefix', async () => {
    env.sb.admin.reset();
    const s3 = createS3Loaders({ session: env.session });
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await s3.listBuckets({ first: 75, after });
      seen.push(...page.items.map((b) => b.name));
      after = page.hasNextPage ? page.endCursor : null;
    } while (after);
    expect(seen.sort()).toEqual([...names].sort());
    expect(s3Calls({ operation: 'ListBuckets' })).toBe(3);
    const prefix = names[0]?.slice(0, 20) ?? '';
    const filtered = await s3.listBuckets({ prefix });
    expect(filtered.items.map((b) => b.name).sort()).toEqual(
      names.filter((n) => n.startsWith(prefix)).sort(),
    );
  });

  it('tags of 20 buckets = 20 GetBucketTagging, each in its bucket’s region, never more than `concurrency` in flight', async () => {
    const { session, stats } = measured(env.session);
    const s3 = createS3Loaders({ session, concurrency: 4 });
    await s3.listBuckets({ first: 200 });
    env.sb.admin.reset();
    env.sb.admin.setLatency({ s3: { fixedMs: 30 } });
    stats.sent = 0;
    stats.peak = 0;
    const twenty = buckets.slice(0, 20);
    const tags = await s3.tags.loadMany(twenty.map((b) => b.name));
    expect(tags).toEqual(
      twenty.map((b) =>
        Object.entries(b.tags ?? {})
          .map(([key, value]) => ({ key, value }))
          .sort((x, y) => (x.key < y.key ? -1 : 1)),
      ),
    );
    expect(s3Calls({ operation: 'GetBucketTagging' })).toBe(20);
    expect(s3Calls()).toBe(20);
    for (const region of member.regions) {
      expect(s3Calls({ operation: 'GetBucketTagging', region })).toBe(
        twenty.filter((b) => b.region === region).length,
      );
    }
    expect(stats.sent).toBe(20);
    expect(stats.peak).toBe(4);
  });

  it('"no such configuration" answers become [] / null, one call per bucket and configuration', async () => {
    const s3 = createS3Loaders({ session: env.session });
    await s3.listBuckets({ first: 200 });
    env.sb.admin.reset();
    const sample = buckets.slice(0, 20);
    const sampleNames = sample.map((b) => b.name);
    const [tags, encryption, blocks, policies] = await Promise.all([
      s3.tags.loadMany(sampleNames),
      s3.encryption.loadMany(sampleNames),
      s3.publicAccessBlock.loadMany(sampleNames),
      s3.policyStatus.loadMany(sampleNames),
    ]);
    expect(tags.map((t) => (Array.isArray(t) ? t.length : t))).toEqual(
      sample.map((b) => Object.keys(b.tags ?? {}).length),
    );
    expect(encryption).toEqual(
      sample.map((b) =>
        b.encryption
          ? {
              algorithm: b.encryption.algorithm,
              kmsKeyId: b.encryption.kmsKeyId ?? null,
              bucketKeyEnabled: b.encryption.bucketKeyEnabled,
            }
          : null,
      ),
    );
    expect(blocks).toEqual(sample.map((b) => b.publicAccessBlock ?? null));
    expect(policies).toEqual(sample.map((b) => (b.policy ? { isPublic: b.policy.isPublic } : null)));
    // The fixture mixes both answers, so both paths are exercised.
    expect(sample.some((b) => !b.tags) && sample.some((b) => b.tags)).toBe(true);
    expect(encryption.filter((e) => e === null).length).toBeGreaterThan(0);
    expect(blocks.filter((e) => e === null).length).toBeGreaterThan(0);
    expect(policies.filter((e) => e === null).length).toBeGreaterThan(0);
    expect(s3Calls()).toBe(80);
  });

  it('an unlisted bucket’s region = 1 HeadBucket (its x-amz-bucket-region, even on a 301)', async () => {
    env.sb.admin.reset();
    const s3 = createS3Loaders({ session: env.session });
    const home = buckets.find((b) => b.region === 'us-east-1');
    const away = buckets.find((b) => b.region === 'ap-southeast-2');
    expect(await s3.region.loadMany([home?.name ?? '', away?.name ?? ''])).toEqual([
      'us-east-1',
      'ap-southeast-2',
    ]);
    expect(s3Calls({ operation: 'HeadBucket' })).toBe(2);
    expect(s3Calls({ operation: 'GetBucketLocation' })).toBe(0);
    await s3.tags.load(away?.name ?? '');
    expect(s3Calls({ operation: 'GetBucketTagging', region: 'ap-southeast-2' })).toBe(1);
    expect(s3Calls()).toBe(3);
  });

  it('lists objects with prefix, delimiter and first/after in the bucket’s region', async () => {
    const bucket = buckets.find((b) => b.region === 'eu-west-1');
    if (!bucket) throw new Error('no eu-west-1 bucket');
    const s3 = createS3Loaders({ session: env.session });
    await s3.listBuckets({ first: 200 });
    env.sb.admin.reset();
    const top = await s3.listObjects({ bucket: bucket.name, delimiter: '/' });
    expect(top.commonPrefixes.sort()).toEqual(['logs/', 'reports/']);
    expect(top.items.map((o) => o.key)).toEqual(
      bucket.objects.filter((o) => !o.key.includes('/')).map((o) => o.key),
    );
    const keys: string[] = [];
    let after: string | null = null;
    do {
      const page = await s3.listObjects({ bucket: bucket.name, prefix: 'logs/', first: 2, after });
      expect(page.items.length).toBeLessThanOrEqual(2);
      keys.push(...page.items.map((o) => o.key));
      after = page.hasNextPage ? page.endCursor : null;
    } while (after);
    expect(keys).toEqual(bucket.objects.filter((o) => o.key.startsWith('logs/')).map((o) => o.key));
    expect(s3Calls({ operation: 'ListObjectsV2', region: 'eu-west-1' })).toBe(1 + Math.ceil(keys.length / 2));
    expect(s3Calls()).toBe(s3Calls({ operation: 'ListObjectsV2' }));
  });
});

describe('S3 errors against the sandbox', () => {
  it('a refused call rejects only its bucket, with account, region, bucket, AWS code and request id', async () => {
    const session = env.singleAttempt();
    const s3 = createS3Loaders({ session });
    await s3.listBuckets({ first: 200 });
    const [target, other] = [
      buckets.find((b) => b.region === 'eu-west-1'),
      buckets.find((b) => b.region === 'us-east-1'),
    ];
    env.sb.admin.setFault({
      service: 's3',
      operation: 'GetBucketEncryption',
      region: 'eu-west-1',
      error: { code: 'AccessDenied', status: 403 },
    });
    env.sb.admin.setFault({
      service: 's3',
      operation: 'GetBucketTagging',
      region: 'eu-west-1',
      error: 'throttle',
    });
    const [denied, fine] = await s3.encryption.loadMany([target?.name ?? '', other?.name ?? '']);
    expect(fine).not.toBeInstanceOf(Error);
    expect(denied).toBeInstanceOf(S3Error);
    expect(denied).toMatchObject({
      code: AdapterErrorCode.AWS_ACCESS_DENIED,
      accountId: env.accountId,
      region: 'eu-west-1',
      bucket: target?.name,
      awsCode: 'AccessDenied',
      retryable: false,
    });
    expect((denied as S3Error).requestId).toMatch(/\S+/);
    await expect(s3.tags.load(target?.name ?? '')).rejects.toMatchObject({
      code: AdapterErrorCode.AWS_THROTTLED,
      awsCode: 'SlowDown',
      retryable: true,
      region: 'eu-west-1',
    });
  });

  it('an unknown bucket is AWS_NOT_FOUND and an unavailable service AWS_UNAVAILABLE', async () => {
    const session = env.singleAttempt();
    const s3 = createS3Loaders({ session });
    await expect(s3.tags.load('no-such-bucket-anywhere')).rejects.toMatchObject({
      code: AdapterErrorCode.AWS_NOT_FOUND,
      bucket: 'no-such-bucket-anywhere',
      accountId: env.accountId,
      retryable: false,
    });
    env.sb.admin.setServiceEnabled('s3', false);
    try {
      await expect(s3.listBuckets()).rejects.toMatchObject({
        code: AdapterErrorCode.AWS_UNAVAILABLE,
        retryable: true,
      });
    } finally {
      env.sb.admin.setServiceEnabled('s3', true);
    }
  });

  it('a session that cannot assume its role gives CREDENTIALS_UNAVAILABLE wrapping the CredentialsError', async () => {
    env.sb.admin.reset();
    const session = env.singleAttempt();
    env.sb.admin.setAccountEnabled(env.accountId, false);
    try {
      const error = await createS3Loaders({ session })
        .listBuckets()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3Error);
      expect(error).toMatchObject({
        code: AdapterErrorCode.CREDENTIALS_UNAVAILABLE,
        accountId: env.accountId,
      });
      expect((error as S3Error).cause).toBeInstanceOf(CredentialsError);
      expect((error as S3Error).retryable).toBe(((error as S3Error).cause as CredentialsError).retryable);
      expect(s3Calls()).toBe(0);
    } finally {
      env.sb.admin.setAccountEnabled(env.accountId, true);
    }
  });

  it('a signal that already fired sends nothing; aborting stops the queued and in-flight calls', async () => {
    env.sb.admin.reset();
    const fired = new AbortController();
    fired.abort();
    const early = createS3Loaders({ session: env.session, signal: fired.signal });
    await expect(early.listBuckets()).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    await expect(early.tags.load(names[0] ?? '')).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    expect(s3Calls()).toBe(0);

    const controller = new AbortController();
    const s3 = createS3Loaders({ session: env.session, signal: controller.signal, concurrency: 2 });
    await s3.listBuckets({ first: 200 });
    env.sb.admin.reset();
    env.sb.admin.setLatency({ s3: { fixedMs: 1_000 } });
    const pending = s3.tags.loadMany(names.slice(0, 10));
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const results = await pending;
    expect(Date.now() - started).toBeLessThan(900);
    expect(results.map((r) => (r instanceof S3Error ? r.code : r))).toEqual(
      Array(10).fill(AdapterErrorCode.ABORTED),
    );
    // Only the two calls in flight when the signal fired reached S3; the eight queued never left.
    expect(s3Calls()).toBe(2);
  });
});
