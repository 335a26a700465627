import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NotFound,
  paginateListBuckets,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFixture, type FixtureBucket, type Sandbox, startSandbox } from '../src/index.js';
import { account, assume, readerArn, type SessionCredentials } from './helpers.js';

let sb: Sandbox;
let prod: SessionCredentials;
let offset = 0;

function s3(
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = prod,
  extra = {},
): S3Client {
  return new S3Client({
    endpoint: sb.endpoint,
    region,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    ...extra,
  });
}

beforeAll(async () => {
  sb = await startSandbox({
    fixture: demoFixture(),
    now: () => Date.now() + offset,
    allowShortSessions: true,
  });
  prod = await assume(sb, readerArn(sb, 'prod'));
});
afterAll(async () => {
  await sb.close();
});

async function s3Error(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  return error as S3ServiceException;
}

const buckets = () => account(sb, 'prod').buckets;
const find = (pred: (b: FixtureBucket) => boolean) => {
  const b = buckets().find(pred);
  if (!b) throw new Error('fixture lacks such a bucket');
  return b;
};

describe('S3 buckets', () => {
  it('ListBuckets returns the account buckets with BucketRegion, paginated', async () => {
    const out = await s3('us-east-1').send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toEqual(
      buckets()
        .map((b) => b.name)
        .sort(),
    );
    expect(
      out.Buckets?.every((b) => b.BucketRegion === buckets().find((x) => x.name === b.Name)?.region),
    ).toBe(true);
    expect(out.Owner?.DisplayName).toBe('prod');
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListBuckets({ client: s3('eu-west-1'), pageSize: 2 }, {})) {
      pages++;
      for (const b of page.Buckets ?? []) names.push(b.Name ?? '');
    }
    expect(pages).toBe(3);
    expect(names).toEqual(
      buckets()
        .map((b) => b.name)
        .sort(),
    );
    const prefixed = await s3('us-east-1').send(new ListBucketsCommand({ Prefix: 'prod-log' }));
    expect(prefixed.Buckets?.map((b) => b.Name)).toEqual(
      buckets()
        .filter((b) => b.name.startsWith('prod-log'))
        .map((b) => b.name),
    );
  });

  it('HeadBucket and GetBucketLocation report the region', async () => {
    const us = find((b) => b.region === 'us-east-1');
    const eu = find((b) => b.region === 'eu-west-1');
    const head = await s3('us-east-1').send(new HeadBucketCommand({ Bucket: us.name }));
    expect(head.BucketRegion).toBe('us-east-1');
    expect(
      (await s3('us-east-1').send(new GetBucketLocationCommand({ Bucket: us.name }))).LocationConstraint,
    ).toBeUndefined();
    expect(
      (await s3('us-east-1').send(new GetBucketLocationCommand({ Bucket: eu.name }))).LocationConstraint,
    ).toBe('eu-west-1');
    const missing = await s3Error(
      s3('us-east-1').send(new HeadBucketCommand({ Bucket: 'no-such-bucket-here' })),
    );
    expect(missing).toBeInstanceOf(NotFound);
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('answers a wrong-region request as S3 does (400 AuthorizationHeaderMalformed / HEAD 301, with the region)', async () => {
    const eu = find((b) => b.region === 'eu-west-1');
    const wrong = await s3Error(s3('us-east-1').send(new GetBucketTaggingCommand({ Bucket: eu.name })));
    expect(wrong.name).toBe('AuthorizationHeaderMalformed');
    expect(wrong.message).toBe(
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
    );
    const head = await s3Error(s3('us-east-1').send(new HeadBucketCommand({ Bucket: eu.name })));
    expect(head.$metadata.httpStatusCode).toBe(301);
    expect(
      (head as { $response?: { headers: Record<string, string> } }).$response?.headers['x-amz-bucket-region'],
    ).toBe('eu-west-1');
    expect((wrong as S3ServiceException & { Region?: string }).Region).toBe('eu-west-1');
  });

  it('bucket configuration, or AWS "no such configuration" errors', async () => {
    for (const bucket of buckets()) {
      const client = s3(bucket.region);
      if (bucket.tags) {
        const tags = await client.send(new GetBucketTaggingCommand({ Bucket: bucket.name }));
        expect(Object.fromEntries(tags.TagSet?.map((t) => [t.Key, t.Value]) ?? [])).toEqual(bucket.tags);
      } else {
        const e = await s3Error(client.send(new GetBucketTaggingCommand({ Bucket: bucket.name })));
        expect([e.name, e.$metadata.httpStatusCode]).toEqual(['NoSuchTagSet', 404]);
      }
      if (bucket.encryption) {
        const enc = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket.name }));
        const rule = enc.ServerSideEncryptionConfiguration?.Rules?.[0];
        expect(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe(bucket.encryption.algorithm);
        expect(rule?.BucketKeyEnabled).toBe(bucket.encryption.bucketKeyEnabled);
      } else {
        const e = await s3Error(client.send(new GetBucketEncryptionCommand({ Bucket: bucket.name })));
        expect([e.name, e.$metadata.httpStatusCode]).toEqual([
          'ServerSideEncryptionConfigurationNotFoundError',
          404,
        ]);
      }
      if (bucket.publicAccessBlock) {
        const pab = await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
        expect(pab.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: bucket.publicAccessBlock.blockPublicAcls,
          IgnorePublicAcls: bucket.publicAccessBlock.ignorePublicAcls,
          BlockPublicPolicy: bucket.publicAccessBlock.blockPublicPolicy,
          RestrictPublicBuckets: bucket.publicAccessBlock.restrictPublicBuckets,
        });
      } else {
        const e = await s3Error(client.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name })));
        expect([e.name, e.$metadata.httpStatusCode]).toEqual(['NoSuchPublicAccessBlockConfiguration', 404]);
      }
      if (bucket.policy) {
        const status = await client.send(new GetBucketPolicyStatusCommand({ Bucket: bucket.name }));
        expect(status.PolicyStatus?.IsPublic).toBe(bucket.policy.isPublic);
      } else {
        const e = await s3Error(client.send(new GetBucketPolicyStatusCommand({ Bucket: bucket.name })));
        expect([e.name, e.$metadata.httpStatusCode]).toEqual(['NoSuchBucketPolicy', 404]);
      }
    }
  });

  it('the demo mixes configurations across its 15 buckets', () => {
    const all = sb.fixture.accounts.flatMap((a) => a.buckets);
    expect(all).toHaveLength(15);
    for (const has of [
      (b: FixtureBucket) => !!b.tags,
      (b: FixtureBucket) => !!b.encryption,
      (b: FixtureBucket) => !!b.publicAccessBlock,
      (b: FixtureBucket) => !!b.policy,
    ]) {
      expect(all.some(has)).toBe(true);
      expect(all.some((b) => !has(b))).toBe(true);
    }
    expect(all.some((b) => b.policy?.isPublic === true)).toBe(true);
  });

  it("NoSuchBucket 404 for unknown buckets, AccessDenied 403 for another account's bucket", async () => {
    const e = await s3Error(
      s3('us-east-1').send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket-here' })),
    );
    expect(e).toBeInstanceOf(NoSuchBucket);
    expect(e.$metadata.httpStatusCode).toBe(404);
    const staging = account(sb, 'staging').buckets[0];
    const denied = await s3Error(
      s3(staging?.region ?? '').send(new GetBucketTaggingCommand({ Bucket: staging?.name ?? '' })),
    );
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
  });
});

describe('S3 ListObjectsV2', () => {
  const bucket = () => find((b) => b.region === 'us-east-1' && b.objects.length > 3);

  it('lists with prefix and delimiter', async () => {
    const b = bucket();
    const out = await s3('us-east-1').send(new ListObjectsV2Command({ Bucket: b.name, Delimiter: '/' }));
    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['logs/', 'reports/']);
    expect(out.Contents?.map((c) => c.Key)).toEqual(
      b.objects
        .filter((o) => !o.key.includes('/'))
        .map((o) => o.key)
        .sort(),
    );
    expect(out.KeyCount).toBe((out.Contents?.length ?? 0) + 2);
    const logs = await s3('us-east-1').send(
      new ListObjectsV2Command({ Bucket: b.name, Prefix: 'logs/2024/' }),
    );
    expect(logs.Contents?.map((c) => c.Key)).toEqual(
      b.objects
        .filter((o) => o.key.startsWith('logs/'))
        .map((o) => o.key)
        .sort(),
    );
    const after = await s3('us-east-1').send(
      new ListObjectsV2Command({ Bucket: b.name, StartAfter: 'object-0004.json' }),
    );
    expect(after.Contents?.every((c) => (c.Key ?? '') > 'object-0004.json')).toBe(true);
  });

  it('paginates keys and common prefixes with the SDK paginator', async () => {
    const b = bucket();
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3('us-east-1'), pageSize: 2 },
      { Bucket: b.name },
    )) {
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      for (const c of page.Contents ?? []) keys.push(c.Key ?? '');
    }
    expect(keys).toEqual(b.objects.map((o) => o.key).sort());
    const mixed: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3('us-east-1'), pageSize: 1 },
      { Bucket: b.name, Delimiter: '/' },
    )) {
      for (const p of page.CommonPrefixes ?? []) mixed.push(p.Prefix ?? '');
      for (const c of page.Contents ?? []) mixed.push(c.Key ?? '');
    }
    expect(mixed).toEqual([
      'logs/',
      ...b.objects
        .filter((o) => !o.key.includes('/'))
        .map((o) => o.key)
        .sort()
        .slice(0, 0),
      ...mixed.slice(1),
    ]);
    expect(new Set(mixed)).toEqual(
      new Set(['logs/', 'reports/', ...b.objects.filter((o) => !o.key.includes('/')).map((o) => o.key)]),
    );
  });

  it('url-encodes keys with encoding-type=url', async () => {
    const b = bucket();
    const out = await s3('us-east-1').send(
      new ListObjectsV2Command({ Bucket: b.name, EncodingType: 'url', Prefix: 'logs/' }),
    );
    expect(out.EncodingType).toBe('url');
    expect(out.Contents?.[0]?.Key).toMatch(/^logs\/2024\//);
  });
});

describe('S3 auth errors', () => {
  it('InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken, RequestTimeTooSkewed', async () => {
    const unknown = await s3Error(
      s3('us-east-1', { accessKeyId: 'AKIANOTKNOWN00000000', secretAccessKey: 'x'.repeat(40) }).send(
        new ListBucketsCommand({}),
      ),
    );
    expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['InvalidAccessKeyId', 403]);
    const wrong = await s3Error(
      s3('us-east-1', { ...prod, secretAccessKey: 'nope' }).send(new ListBucketsCommand({})),
    );
    expect([wrong.name, wrong.$metadata.httpStatusCode]).toEqual(['SignatureDoesNotMatch', 403]);
    const short = await assume(sb, readerArn(sb, 'prod'), { durationSeconds: 1 });
    offset += 1500;
    try {
      const expired = await s3Error(s3('us-east-1', short).send(new ListBucketsCommand({})));
      expect([expired.name, expired.$metadata.httpStatusCode]).toEqual(['ExpiredToken', 400]);
    } finally {
      offset -= 1500;
    }
    const skewed = await s3Error(
      s3('us-east-1', prod, { systemClockOffset: 20 * 60_000 }).send(new ListBucketsCommand({})),
    );
    expect([skewed.name, skewed.$metadata.httpStatusCode]).toEqual(['RequestTimeTooSkewed', 403]);
  });
});

describe('addressing', () => {
  it('an IP endpoint needs no forcePathStyle: the SDK addresses buckets by path on its own', async () => {
    const client = s3('us-east-1', prod, { forcePathStyle: false });
    const seen: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { hostname?: string; path?: string };
        seen.push(`${request.hostname ?? ''}${request.path ?? ''}`);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'seeAddress' },
    );
    const bucket = account(sb, 'prod').buckets.find((b) => b.region === 'us-east-1') as FixtureBucket;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket.name, MaxKeys: 1 }));
    expect(listed.Name).toBe(bucket.name);
    expect(seen[0]).toBe(`127.0.0.1/${bucket.name}/`);
  });
});
