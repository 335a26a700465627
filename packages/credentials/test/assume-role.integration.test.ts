import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsError, fromAssumeRole } from '../src/index.js';
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
  aws.assumeRoleSigners.length = 0;
  aws.assumeRoleRegions.length = 0;
  aws.ec2Calls.length = 0;
  aws.stsFailure = undefined;
  aws.durationSeconds = undefined;
});

const sts = () => ({ stsEndpoint: aws.endpoint, sourceCredentials: async () => base });

describe('fromAssumeRole over real HTTP', () => {
  it('sends every AssumeRole parameter and returns SDK-shaped credentials', async () => {
    const provider = fromAssumeRole({
      ...sts(),
      roleArn: READER,
      roleSessionName: 'inventory',
      externalId: 'ext-12345',
      durationSeconds: 7200,
      policy: '{"Version":"2012-10-17","Statement":[]}',
      policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      tags: [{ key: 'team', value: 'platform' }],
      transitiveTagKeys: ['team'],
      sourceIdentity: 'alice',
      mfa: { serialNumber: 'arn:aws:iam::111122223333:mfa/alice', tokenCode: async () => '123456' },
      stsRegion: 'eu-west-1',
      proactiveRefresh: false,
    });
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^ASIALOCAL/);
    expect(creds.sessionToken).toBeTruthy();
    expect(creds.expiration).toBeInstanceOf(Date);
    expect(creds.accountId).toBe('111122223333');
    const p = aws.assumeRoleCalls[0];
    expect(Object.fromEntries(p ?? [])).toMatchObject({
      RoleArn: READER,
      RoleSessionName: 'inventory',
      ExternalId: 'ext-12345',
      DurationSeconds: '7200',
      Policy: '{"Version":"2012-10-17","Statement":[]}',
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'Tags.member.1.Key': 'team',
      'Tags.member.1.Value': 'platform',
      'TransitiveTagKeys.member.1': 'team',
      SourceIdentity: 'alice',
      SerialNumber: 'arn:aws:iam::111122223333:mfa/alice',
      TokenCode: '123456',
    });
    expect(aws.assumeRoleRegions).toEqual(['eu-west-1']);
    expect(aws.assumeRoleSigners).toEqual([base.accessKeyId]);
    expect(provider.status().advisoryWindowMs).toBe(60 * 60_000); // 2 h lifetime
    provider.close();
  });

  it('uses a stable default session name for the life of the provider', async () => {
    const provider = fromAssumeRole({ ...sts(), roleArn: READER, proactiveRefresh: false });
    await provider();
    provider.invalidate((await provider()).accessKeyId);
    await provider();
    const names = aws.assumeRoleCalls.map((p) => p.get('RoleSessionName'));
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^rolegraph-\d+$/);
    expect(names[1]).toBe(names[0]);
    expect(provider.roleSessionName).toBe(names[0]);
    provider.close();
  });

  it('one provider shared by 10 clients in 3 regions makes one AssumeRole for 1000 requests', async () => {
    const credentials = fromAssumeRole({ ...sts(), roleArn: READER, proactiveRefresh: false });
    const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
    const clients = Array.from(
      { length: 10 },
      (_, i) => new EC2Client({ region: regions[i % 3] ?? 'us-east-1', endpoint: aws.endpoint, credentials }),
    );
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => clients[i % 10]?.send(new DescribeRegionsCommand({}))),
    );
    expect(aws.ec2Calls).toHaveLength(1000);
    expect(aws.assumeRoleCalls).toHaveLength(1);
    for (const c of clients) c.destroy();
    credentials.close();
  });

  it('role chaining: each hop is cached on its own and the spoke is capped at 3600 s', async () => {
    const hub = fromAssumeRole({
      ...sts(),
      roleArn: 'arn:aws:iam::999999999999:role/Hub',
      proactiveRefresh: false,
    });
    const spoke = fromAssumeRole({
      stsEndpoint: aws.endpoint,
      sourceCredentials: hub,
      roleArn: READER,
      durationSeconds: 43_200,
      proactiveRefresh: false,
    });
    const other = fromAssumeRole({
      stsEndpoint: aws.endpoint,
      sourceCredentials: hub,
      roleArn: 'arn:aws:iam::444455556666:role/Reader',
      proactiveRefresh: false,
    });
    await Promise.all([spoke(), other(), spoke(), other()]);
    const roles = aws.assumeRoleCalls.map((p) => p.get('RoleArn'));
    expect(roles.filter((r) => r?.endsWith(':role/Hub'))).toHaveLength(1);
    expect(roles.filter((r) => r === READER)).toHaveLength(1);
    expect(aws.assumeRoleCalls.find((p) => p.get('RoleArn') === READER)?.get('DurationSeconds')).toBe('3600');
    const hubKey = (await hub()).accessKeyId;
    expect(aws.assumeRoleSigners.filter((k) => k === hubKey)).toHaveLength(2); // both spokes signed by the hub
    for (const p of [hub, spoke, other]) p.close();
  });

  it('AccessDenied is a non-retryable typed error naming the role, remembered briefly', async () => {
    aws.stsFailure = { status: 403, code: 'AccessDenied' };
    const provider = fromAssumeRole({ ...sts(), roleArn: READER, proactiveRefresh: false });
    const error = (await provider().catch((e: unknown) => e)) as CredentialsError;
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({
      code: 'ASSUME_ROLE_REJECTED',
      retryable: false,
      awsCode: 'AccessDenied',
      roleArn: READER,
      accountId: '111122223333',
    });
    expect(error.requestId).toMatch(/^[0-9a-f]{16}$/);
    expect(error.message).toContain(READER);
    expect(error.message).toContain('111122223333');
    expect(error.message).not.toContain(base.secretAccessKey);
    // Remembered: an immediate retry does not reach STS.
    await expect(provider()).rejects.toBe(error);
    expect(aws.assumeRoleCalls).toHaveLength(1);
    provider.close();
  });

  it('throttling is retried by the STS client only (one retry layer), then a typed unavailable error', async () => {
    aws.stsFailure = { status: 400, code: 'Throttling' };
    const provider = fromAssumeRole({
      ...sts(),
      roleArn: READER,
      proactiveRefresh: false,
      stsClientConfig: { maxAttempts: 3 },
    });
    const error = (await provider().catch((e: unknown) => e)) as CredentialsError;
    expect(error.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect((error.cause as CredentialsError).awsCode).toBe('Throttling');
    expect(aws.assumeRoleCalls).toHaveLength(3);
    provider.close();
  });

  it('refuses bad parameters before any call, naming the option', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ roleArn: 'arn:aws:iam::12:role/x' }, /roleArn/],
      [{ roleArn: READER, roleSessionName: 'a' }, /roleSessionName/],
      [{ roleArn: READER, roleSessionName: 'has space' }, /roleSessionName/],
      [{ roleArn: READER, durationSeconds: 899 }, /durationSeconds/],
      [{ roleArn: READER, durationSeconds: 43_201 }, /durationSeconds/],
      [{ roleArn: READER, externalId: 'x' }, /externalId/],
      [{ roleArn: READER, policyArns: ['nope'] }, /policyArns/],
      [{ roleArn: READER, tags: [{ key: '', value: 'v' }] }, /tags/],
      [{ roleArn: READER, sourceIdentity: 'a b' }, /sourceIdentity/],
    ];
    for (const [options, message] of bad) {
      expect(() => fromAssumeRole({ ...sts(), ...options } as never)).toThrow(TypeError);
      expect(() => fromAssumeRole({ ...sts(), ...options } as never)).toThrow(message);
    }
    expect(aws.assumeRoleCalls).toHaveLength(0);
  });

  it('short sessions only when asked for (a sandbox that allows them), never below 1 s', async () => {
    expect(() => fromAssumeRole({ ...sts(), roleArn: READER, durationSeconds: 60 })).toThrow(
      /durationSeconds must be an integer from 900 to 43200/,
    );
    expect(() =>
      fromAssumeRole({ ...sts(), roleArn: READER, durationSeconds: 0, allowShortSessions: true }),
    ).toThrow(/from 1 to 43200/);
    const provider = fromAssumeRole({
      ...sts(),
      roleArn: READER,
      durationSeconds: 60,
      allowShortSessions: true,
    });
    await provider();
    expect(aws.assumeRoleCalls[0]?.get('DurationSeconds')).toBe('60');
    provider.close();
  });
});
