import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  AssumeRoleCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EXTERNAL_ID, demoFixture, type Sandbox, startSandbox } from '../src/index.js';
import { assume, readerArn, stsClient } from './helpers.js';

let sb: Sandbox;
// The sandbox clock runs ahead of wall time by `offset`; SDK clients sign with wall time.
let offset = 0;

beforeAll(async () => {
  sb = await startSandbox({
    fixture: demoFixture(),
    now: () => Date.now() + offset,
    allowShortSessions: true,
  });
});
afterAll(async () => {
  await sb.close();
});

async function stsError(promise: Promise<unknown>): Promise<STSServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(STSServiceException);
  return error as STSServiceException;
}

describe('STS', () => {
  it('GetCallerIdentity names the central user', async () => {
    const out = await stsClient(sb).send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe('000000000000');
    expect(out.Arn).toBe('arn:aws:iam::000000000000:user/rolegraph-central');
    expect(out.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
  });

  it('AssumeRole mints ASIA credentials in the role account', async () => {
    const creds = await assume(sb, readerArn(sb, 'prod'));
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(Math.abs(creds.expiration.getTime() - (Date.now() + 3600_000))).toBeLessThan(2000);
    expect(creds.expiration.getTime() % 1000).toBe(0);
    const who = await stsClient(sb, creds).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe('111111111111');
    expect(who.Arn).toBe('arn:aws:sts::111111111111:assumed-role/RolegraphReader/test-session');
    expect(who.UserId).toMatch(/^AROA[A-Z2-7]{17}:test-session$/);
  });

  it('counts AssumeRole per target role', async () => {
    sb.admin.reset();
    await assume(sb, readerArn(sb, 'staging'));
    await assume(sb, readerArn(sb, 'staging'));
    await assume(sb, readerArn(sb, 'audit'));
    expect(sb.admin.calls({ operation: 'AssumeRole', roleArn: readerArn(sb, 'staging') })).toBe(2);
    expect(sb.admin.calls({ operation: 'AssumeRole', roleArn: readerArn(sb, 'audit') })).toBe(1);
    expect(sb.admin.calls({ service: 'sts', account: '000000000000' })).toBe(3);
  });

  it.each([
    [{ DurationSeconds: 43201 }, /Member must have value less than or equal to 43200/],
    [
      { RoleSessionName: 'a' },
      /at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2/,
    ],
    [{ RoleSessionName: 'has space' }, /Member must satisfy regular expression pattern/],
    [{ RoleSessionName: 'x'.repeat(65) }, /less than or equal to 64/],
    [{ ExternalId: 'a' }, /at 'externalId'/],
  ])('rejects invalid parameters %o with ValidationError', async (override, message) => {
    const error = await stsError(
      stsClient(sb).send(
        new AssumeRoleCommand({ RoleArn: readerArn(sb, 'prod'), RoleSessionName: 'ok-name', ...override }),
      ),
    );
    expect(error.name).toBe('ValidationError');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('enforces 900 s minimum without allowShortSessions', async () => {
    const strict = await startSandbox({ fixture: demoFixture() });
    try {
      const error = await stsError(
        stsClient(strict).send(
          new AssumeRoleCommand({
            RoleArn: readerArn(strict, 'prod'),
            RoleSessionName: 'short',
            DurationSeconds: 899,
          }),
        ),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toMatch(/greater than or equal to 900/);
    } finally {
      await strict.close();
    }
  });

  it('caps DurationSeconds at the role MaxSessionDuration', async () => {
    const error = await stsError(
      stsClient(sb).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::333333333333:role/RolegraphAuditor',
          RoleSessionName: 'long',
          ExternalId: DEMO_EXTERNAL_ID,
          DurationSeconds: 7200,
        }),
      ),
    );
    expect(error.message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  });

  it('caps role chaining at one hour', async () => {
    const prod = await assume(sb, readerArn(sb, 'prod'));
    const chainedArn = 'arn:aws:iam::222222222222:role/RolegraphChained';
    const error = await stsError(
      stsClient(sb, prod).send(
        new AssumeRoleCommand({ RoleArn: chainedArn, RoleSessionName: 'chain', DurationSeconds: 3601 }),
      ),
    );
    expect(error.message).toMatch(/1 hour session limit for roles assumed by role chaining/);
    const chained = await assume(sb, chainedArn, { credentials: prod, durationSeconds: 3600 });
    const who = await stsClient(sb, chained).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:sts::222222222222:assumed-role/RolegraphChained/test-session');
  });

  it('lets the trust policy decide, ExternalId included', async () => {
    const auditor = 'arn:aws:iam::333333333333:role/RolegraphAuditor';
    const denied = await stsError(
      stsClient(sb).send(new AssumeRoleCommand({ RoleArn: auditor, RoleSessionName: 'no-ext' })),
    );
    expect(denied.name).toBe('AccessDenied');
    expect(denied.$metadata.httpStatusCode).toBe(403);
    expect(denied.message).toBe(
      `User: arn:aws:iam::000000000000:user/rolegraph-central is not authorized to perform: sts:AssumeRole on resource: ${auditor}`,
    );
    const ok = await stsClient(sb).send(
      new AssumeRoleCommand({ RoleArn: auditor, RoleSessionName: 'with-ext', ExternalId: DEMO_EXTERNAL_ID }),
    );
    expect(ok.AssumedRoleUser?.Arn).toBe('arn:aws:sts::333333333333:assumed-role/RolegraphAuditor/with-ext');
    const outsider = await stsError(
      stsClient(sb, sb.principal('rolegraph-outsider')).send(
        new AssumeRoleCommand({ RoleArn: readerArn(sb, 'prod'), RoleSessionName: 'outsider' }),
      ),
    );
    expect(outsider.name).toBe('AccessDenied');
    const missing = await stsError(
      stsClient(sb).send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/Nope', RoleSessionName: 'nope' }),
      ),
    );
    expect(missing.name).toBe('AccessDenied');
  });

  it('expires sessions on the sandbox clock: ExpiredToken 403 (STS) and RequestExpired 400 (EC2)', async () => {
    const creds = await assume(sb, readerArn(sb, 'prod'), { durationSeconds: 2 });
    const sts = stsClient(sb, creds);
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    offset += 2000;
    const error = await stsError(sts.send(new GetCallerIdentityCommand({})));
    // Real STS answers an expired *session* with the un-modelled code ExpiredToken (403); the SDK's
    // ExpiredTokenException is the modelled 400 error for expired web-identity/SAML input tokens.
    expect(error.name).toBe('ExpiredToken');
    expect(error).not.toBeInstanceOf(ExpiredTokenException);
    expect(error.message).toBe('The security token included in the request is expired');
    expect(error.$metadata.httpStatusCode).toBe(403);
    const ec2 = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: creds,
      maxAttempts: 1,
    });
    const ec2Error = await ec2
      .send(new DescribeRegionsCommand({}))
      .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } });
    expect(ec2Error).toMatchObject({ name: 'RequestExpired', message: 'Request has expired.' });
    expect((ec2Error as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(400);
  });

  it('advanceClock expires sessions too', async () => {
    const creds = await assume(sb, readerArn(sb, 'audit'), { durationSeconds: 900 });
    const sts = stsClient(sb, creds);
    await sts.send(new GetCallerIdentityCommand({}));
    sb.admin.advanceClock(900_000);
    try {
      const error = await stsError(sts.send(new GetCallerIdentityCommand({})));
      expect(error.name).toBe('ExpiredToken');
    } finally {
      sb.admin.advanceClock(-900_000);
    }
  });

  it('expires for real in wall-clock time with a 1 s session', async () => {
    const real = await startSandbox({ fixture: demoFixture(), allowShortSessions: true });
    try {
      const creds = await assume(real, readerArn(real, 'prod'), { durationSeconds: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      const error = await stsError(stsClient(real, creds).send(new GetCallerIdentityCommand({})));
      expect(error.name).toBe('ExpiredToken');
    } finally {
      await real.close();
    }
  });

  it('maxSessionSeconds caps every minted session, whatever DurationSeconds asked', async () => {
    const capped = await startSandbox({ fixture: demoFixture(), maxSessionSeconds: 30 });
    try {
      // Expirations are whole seconds counted from the second the request arrived in.
      const before = Math.floor(Date.now() / 1000) * 1000;
      const creds = await assume(capped, readerArn(capped, 'prod'), { durationSeconds: 3600 });
      const after = Date.now();
      const issuedAt = (creds.expiration?.getTime() ?? 0) - 30_000;
      expect(issuedAt).toBeGreaterThanOrEqual(before);
      expect(issuedAt).toBeLessThanOrEqual(after);
    } finally {
      await capped.close();
    }
    await expect(startSandbox({ maxSessionSeconds: 0 })).rejects.toThrow(/maxSessionSeconds/);
  });

  it('a role of the fixture can mint shorter sessions than the others (sessionLifetimeSeconds)', async () => {
    const fixture = demoFixture();
    const prod = fixture.accounts.find((a) => a.alias === 'prod');
    const reader = prod?.roles?.find((r) => r.name === 'RolegraphReader');
    if (!reader) throw new Error('demo fixture has no prod reader');
    reader.sessionLifetimeSeconds = 20;
    const mixed = await startSandbox({ fixture });
    try {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const short = await assume(mixed, readerArn(mixed, 'prod'), { durationSeconds: 3600 });
      const long = await assume(mixed, readerArn(mixed, 'staging'), { durationSeconds: 3600 });
      const after = Date.now();
      expect(short.expiration.getTime() - 20_000).toBeGreaterThanOrEqual(before);
      expect(short.expiration.getTime() - 20_000).toBeLessThanOrEqual(after);
      expect(long.expiration.getTime() - 3_600_000).toBeGreaterThanOrEqual(before);
    } finally {
      await mixed.close();
    }
  });

  it('a fault can select one role: AssumeRole of that role fails, other roles of the account answer', async () => {
    const faulty = await startSandbox({ fixture: demoFixture() });
    try {
      faulty.admin.setFault({ service: 'sts', roleArn: readerArn(faulty, 'prod'), error: 'unavailable' });
      const error = await stsError(assume(faulty, readerArn(faulty, 'prod')));
      expect(error.$metadata.httpStatusCode).toBe(503);
      await expect(assume(faulty, readerArn(faulty, 'staging'))).resolves.toBeDefined();
      // Requests signed by a session of the role match its rules too.
      faulty.admin.clearFaults();
      const creds = await assume(faulty, readerArn(faulty, 'staging'));
      faulty.admin.setFault({ service: 'sts', roleArn: readerArn(faulty, 'staging'), error: 'throttle' });
      const throttled = await stsError(stsClient(faulty, creds).send(new GetCallerIdentityCommand({})));
      expect(throttled.$metadata.httpStatusCode).toBe(400);
      expect(throttled.name).toBe('Throttling');
      await expect(
        stsClient(faulty, await assume(faulty, readerArn(faulty, 'prod'))).send(
          new GetCallerIdentityCommand({}),
        ),
      ).resolves.toBeDefined();
    } finally {
      await faulty.close();
    }
  });

  it('rejects unknown keys, wrong secrets and wrong tokens', async () => {
    const unknown = await stsError(
      stsClient(sb, { accessKeyId: 'AKIANOTAREALKEY00000', secretAccessKey: 'x'.repeat(40) }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(unknown.name).toBe('InvalidClientTokenId');
    expect(unknown.$metadata.httpStatusCode).toBe(403);
    const badSecret = await stsError(
      stsClient(sb, { ...sb.credentials, secretAccessKey: 'wrong-secret-wrong-secret' }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(badSecret.name).toBe('SignatureDoesNotMatch');
    const creds = await assume(sb, readerArn(sb, 'prod'));
    const badToken = await stsError(
      stsClient(sb, { ...creds, sessionToken: `${creds.sessionToken}x` }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(badToken.name).toBe('InvalidClientTokenId');
  });

  it('rejects clock skew over 15 minutes', async () => {
    const skewed = new STSClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: sb.credentials,
      maxAttempts: 1,
      systemClockOffset: -16 * 60_000,
    });
    const error = await stsError(skewed.send(new GetCallerIdentityCommand({})));
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.message).toMatch(/Signature expired/);
  });
});
