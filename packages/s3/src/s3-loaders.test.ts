import { createAnswerCache } from '@rolegraph/credentials/aws';
import {
  awsError,
  createFakeSession as fakeSession,
  type RecordedCall,
} from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { AdapterErrorCode, S3Error } from './errors.js';
import { createS3Loaders } from './s3-loaders.js';

interface FakeBucket {
  name: string;
  region: string;
  tags?: Record<string, string>;
  encrypted?: boolean;
  blocked?: boolean;
  policy?: boolean;
}

const buckets: FakeBucket[] = [
  {
    name: 'alpha',
    region: 'eu-west-1',
    tags: { Team: 'data', Env: 'prod' },
    encrypted: true,
    blocked: true,
    policy: true,
  },
  { name: 'beta', region: 'us-east-1' },
  { name: 'gamma', region: 'ap-south-1', tags: {} },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeS3(all: FakeBucket[], delayMs = 0) {
  return async (call: RecordedCall): Promise<unknown> => {
    if (delayMs) await sleep(delayMs);
    const name = call.input.Bucket as string | undefined;
    if (call.operation === 'ListBuckets') {
      const start = Number(call.input.ContinuationToken ?? 0);
      if (Number.isNaN(start)) throw awsError('InvalidArgument', 400);
      const max = call.input.MaxBuckets as number;
      const page = all.slice(start, start + max);
      return {
        Buckets: page.map((b) => ({ Name: b.name, BucketRegion: b.region, CreationDate: new Date(0) })),
        ContinuationToken: start + max < all.length ? String(start + max) : undefined,
      };
    }
    const bucket = all.find((b) => b.name === name);
    if (!bucket) throw awsError('NoSuchBucket', 404);
    if (
      call.operation !== 'HeadBucket' &&
      call.operation !== 'GetBucketLocation' &&
      call.region !== bucket.region
    ) {
      throw awsError('PermanentRedirect', 301);
    }
    switch (call.operation) {
      case 'HeadBucket':
        return { BucketRegion: bucket.region };
      case 'GetBucketTagging':
        if (!bucket.tags) throw awsError('NoSuchTagSet', 404);
        return { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) };
      case 'GetBucketEncryption':
        if (!bucket.encrypted) throw awsError('ServerSideEncryptionConfigurationNotFoundError', 404);
        return {
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'key-1' },
                BucketKeyEnabled: true,
              },
            ],
          },
        };
      case 'GetPublicAccessBlock':
        if (!bucket.blocked) throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
        return {
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: false,
            RestrictPublicBuckets: true,
          },
        };
      case 'GetBucketPolicyStatus':
        if (!bucket.policy) throw awsError('NoSuchBucketPolicy', 404);
        return { PolicyStatus: { IsPublic: false } };
      case 'ListObjectsV2':
        return {
          Contents: [{ Key: 'a.json', Size: 3, ETag: '"abc"', StorageClass: 'STANDARD' }],
          CommonPrefixes: [{ Prefix: 'logs/' }],
          IsTruncated: true,
          NextContinuationToken: 'next-1',
        };
      default:
        throw new Error(`fake S3 does not know ${call.operation}`);
    }
  };
}

describe('createS3Loaders', () => {
  it('lists buckets with MaxBuckets and primes their regions', async () => {
    const { session, calls } = fakeSession(fakeS3(buckets), { accountId: '210987654321' });
    const s3 = createS3Loaders({ session });
    const page = await s3.listBuckets({ first: 2, prefix: 'a' });
    expect(page).toMatchObject({ endCursor: '2', hasNextPage: true });
    expect(page.items).toEqual([
      { name: 'alpha', accountId: '210987654321', creationDate: new Date(0), region: 'eu-west-1' },
      { name: 'beta', accountId: '210987654321', creationDate: new Date(0), region: 'us-east-1' },
    ]);
    expect(calls[0]).toMatchObject({
      operation: 'ListBuckets',
      region: 'us-east-1',
      input: { MaxBuckets: 2, Prefix: 'a', ContinuationToken: undefined },
    });
    expect(await s3.region.loadMany(['alpha', 'beta'])).toEqual(['eu-west-1', 'us-east-1']);
    expect(calls).toHaveLength(1);
    const next = await s3.listBuckets({ first: 2, after: page.endCursor });
    expect(next).toMatchObject({ items: [{ name: 'gamma' }], endCursor: null, hasNextPage: false });
    expect((await s3.listBuckets()).items).toHaveLength(3);
    expect(calls.at(-1)?.input.MaxBuckets).toBe(1000);
  });

  it('gives every bucket a cursor that resumes right after it', async () => {
    const { session } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session });
    const page = await s3.listBuckets({ first: 3 });
    expect(page.cursors).toHaveLength(3);
    for (const [i, cursor] of page.cursors.entries()) {
      const next = await s3.listBuckets({ first: 1, after: cursor });
      expect(next.items.map((b) => b.name)).toEqual(buckets.slice(i + 1, i + 2).map((b) => b.name));
    }
  });

  it('a cursor S3 refuses names the after argument', async () => {
    const { session } = fakeSession(fakeS3(buckets));
    await expect(createS3Loaders({ session }).listBuckets({ after: 'forged' })).rejects.toMatchObject({
      name: 'S3Error',
      code: AdapterErrorCode.AWS_INVALID_REQUEST,
      awsCode: 'InvalidArgument',
      argument: 'after',
    });
  });

  it('reads each configuration from the bucket’s own region, only when asked', async () => {
    const { session, calls } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session });
    await s3.listBuckets();
    expect(await s3.tags.loadMany(['alpha', 'beta', 'gamma'])).toEqual([
      [
        { key: 'Env', value: 'prod' },
        { key: 'Team', value: 'data' },
      ],
      [],
      [],
    ]);
    expect(await s3.encryption.loadMany(['alpha', 'beta'])).toEqual([
      { algorithm: 'aws:kms', kmsKeyId: 'key-1', bucketKeyEnabled: true },
      null,
    ]);
    expect(await s3.publicAccessBlock.loadMany(['alpha', 'beta'])).toEqual([
      {
        blockPublicAcls: true,
        ignorePublicAcls: true,
        blockPublicPolicy: false,
        restrictPublicBuckets: true,
      },
      null,
    ]);
    expect(await s3.policyStatus.loadMany(['alpha', 'beta'])).toEqual([{ isPublic: false }, null]);
    expect(calls.map((c) => `${c.operation}@${c.region}`)).toEqual([
      'ListBuckets@us-east-1',
      'GetBucketTagging@eu-west-1',
      'GetBucketTagging@us-east-1',
      'GetBucketTagging@ap-south-1',
      'GetBucketEncryption@eu-west-1',
      'GetBucketEncryption@us-east-1',
      'GetPublicAccessBlock@eu-west-1',
      'GetPublicAccessBlock@us-east-1',
      'GetBucketPolicyStatus@eu-west-1',
      'GetBucketPolicyStatus@us-east-1',
    ]);
  });

  it('finds an unlisted bucket’s region with one HeadBucket', async () => {
    const { session, calls } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session, defaultRegion: 'eu-central-1' });
    expect(await s3.tags.load('gamma')).toEqual([]);
    expect(calls.map((c) => `${c.operation}@${c.region}`)).toEqual([
      'HeadBucket@eu-central-1',
      'GetBucketTagging@ap-south-1',
    ]);
  });

  it('reads the region header of a refused HeadBucket, else asks GetBucketLocation', async () => {
    const refused = (header?: string) =>
      Object.assign(awsError('Forbidden', 403), {
        $response: { statusCode: 403, headers: header ? { 'x-amz-bucket-region': header } : {} },
      });
    const locations: Record<string, string | undefined> = { eu: 'EU', old: undefined, new: 'ap-east-1' };
    const { session, calls } = fakeSession((call) => {
      const name = call.input.Bucket as string;
      if (call.operation === 'HeadBucket') throw refused(name === 'with-header' ? 'sa-east-1' : undefined);
      if (name === 'missing') throw awsError('NoSuchBucket', 404);
      return { LocationConstraint: locations[name] };
    });
    const s3 = createS3Loaders({ session });
    expect(await s3.region.loadMany(['with-header', 'eu', 'old', 'new'])).toEqual([
      'sa-east-1',
      'eu-west-1',
      'us-east-1',
      'ap-east-1',
    ]);
    expect(calls.filter((c) => c.operation === 'HeadBucket')).toHaveLength(4);
    expect(calls.filter((c) => c.operation === 'GetBucketLocation')).toHaveLength(3);
    const [missing] = await s3.region.loadMany(['missing']);
    expect(missing).toBeInstanceOf(S3Error);
    expect(missing).toMatchObject({
      code: AdapterErrorCode.AWS_NOT_FOUND,
      bucket: 'missing',
      awsCode: 'NoSuchBucket',
    });
  });

  it('keeps at most `concurrency` per-bucket calls in flight', async () => {
    const many = Array.from({ length: 20 }, (_, k) => ({
      name: `bucket-${k}`,
      region: 'us-east-1',
      tags: {},
    }));
    let inFlight = 0;
    let peak = 0;
    const answer = fakeS3(many, 0);
    const { session, calls } = fakeSession(async (call) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await sleep(5);
        return await answer(call);
      } finally {
        inFlight--;
      }
    });
    const s3 = createS3Loaders({ session, concurrency: 4 });
    await s3.listBuckets();
    const tags = await s3.tags.loadMany(many.map((b) => b.name));
    expect(tags.every((t) => Array.isArray(t))).toBe(true);
    expect(calls.filter((c) => c.operation === 'GetBucketTagging')).toHaveLength(20);
    expect(peak).toBe(4);
  });

  it('turns a refusal into an S3Error for that bucket only', async () => {
    const answer = fakeS3(buckets);
    const { session } = fakeSession(
      (call) => {
        if (call.operation === 'GetBucketEncryption' && call.input.Bucket === 'alpha') {
          throw awsError('AccessDenied', 403, 'req-s3-denied');
        }
        return answer(call);
      },
      { accountId: '210987654321' },
    );
    const s3 = createS3Loaders({ session });
    await s3.listBuckets();
    const [alpha, beta] = await s3.encryption.loadMany(['alpha', 'beta']);
    expect(beta).toBeNull();
    expect(alpha).toBeInstanceOf(S3Error);
    expect(alpha).toMatchObject({
      code: AdapterErrorCode.AWS_ACCESS_DENIED,
      accountId: '210987654321',
      region: 'eu-west-1',
      bucket: 'alpha',
      awsCode: 'AccessDenied',
      requestId: 'req-s3-denied',
      retryable: false,
    });
  });

  it('lists objects in the bucket’s region and strips ETag quotes', async () => {
    const { session, calls } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session });
    await s3.listBuckets();
    const page = await s3.listObjects({
      bucket: 'alpha',
      prefix: 'x/',
      delimiter: '/',
      first: 5000,
      after: 'tok',
    });
    expect(page).toEqual({
      items: [{ key: 'a.json', size: 3, lastModified: null, storageClass: 'STANDARD', etag: 'abc' }],
      commonPrefixes: ['logs/'],
      cursors: ['next-1'],
      endCursor: 'next-1',
      hasNextPage: true,
    });
    expect(calls.at(-1)).toMatchObject({
      operation: 'ListObjectsV2',
      region: 'eu-west-1',
      input: { Bucket: 'alpha', Prefix: 'x/', Delimiter: '/', MaxKeys: 1000, ContinuationToken: 'tok' },
    });
  });

  it('sends nothing once the signal fired and passes it to every call', async () => {
    const controller = new AbortController();
    const { session, calls } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session, signal: controller.signal });
    await s3.listBuckets();
    // The call's own signal, following the request's (callAws: followSignal; @rolegraph/
    // credentials' call-aws.test.ts shows it aborting with the request's).
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(calls[0]?.signal).not.toBe(controller.signal);
    controller.abort();
    const results = await s3.tags.loadMany(['alpha', 'beta']);
    expect(results).toMatchObject([{ code: AdapterErrorCode.ABORTED }, { code: AdapterErrorCode.ABORTED }]);
    await expect(s3.region.load('unlisted')).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    // (The listing made before the abort is this request's answer, like a loaded key.)
    await expect(s3.listBuckets({ prefix: 'a' })).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED });
    expect(calls).toHaveLength(1);
  });

  it('rejects bad options', () => {
    const { session } = fakeSession(() => ({}));
    expect(() => createS3Loaders({ session, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createS3Loaders({ session, defaultRegion: '' })).toThrow(/defaultRegion/);
  });
});

describe('listings per request, and the answer cache', () => {
  it('the same listing twice in one set of loaders is one call', async () => {
    const { session, calls } = fakeSession(fakeS3(buckets));
    const s3 = createS3Loaders({ session });
    const [a, b] = await Promise.all([s3.listBuckets(), s3.listBuckets({})]);
    expect(b).toBe(a);
    await Promise.all([
      s3.listObjects({ bucket: 'alpha', prefix: 'x/' }),
      s3.listObjects({ prefix: 'x/', bucket: 'alpha' }),
    ]);
    expect(calls.map((c) => c.operation)).toEqual(['ListBuckets', 'ListObjectsV2']);
  });

  it('"no such configuration" is a cached value; errors are not cached', async () => {
    let failBeta = true;
    const fake = fakeS3(buckets);
    const { session, calls } = fakeSession((call) => {
      if (call.operation === 'GetBucketEncryption' && call.input.Bucket === 'beta' && failBeta) {
        failBeta = false;
        throw awsError('InternalError', 500);
      }
      return fake(call);
    });
    const answers = createAnswerCache();
    const load = async () => {
      const s3 = createS3Loaders({ session, cache: answers.forRequest() });
      await s3.listBuckets();
      return Promise.all([s3.tags.load('beta'), s3.encryption.load('beta').catch((e: S3Error) => e.code)]);
    };
    expect(await load()).toEqual([[], AdapterErrorCode.AWS_UNAVAILABLE]);
    expect(await load()).toEqual([[], null]);
    expect(await load()).toEqual([[], null]);
    expect(calls.map((c) => c.operation)).toEqual([
      'ListBuckets',
      'GetBucketTagging',
      'GetBucketEncryption',
      'GetBucketEncryption',
    ]);
  });
});
