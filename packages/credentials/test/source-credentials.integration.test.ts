import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialsError, createSessionCache } from '../src/index.js';

// No sourceCredentials anywhere below: every role is assumed with the SDK's default chain, which
// reads the environment at call time. The environment is emptied of every credential source.
const ROLE = 'arn:aws:iam::111111111111:role/RolegraphReader';
let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ fixture: 'demo' });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await sb.close();
});
beforeEach(() => {
  vi.unstubAllEnvs();
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CREDENTIAL_EXPIRATION',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/rolegraph/config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/rolegraph/credentials');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
});

const cache = () =>
  createSessionCache({
    stsEndpoint: sb.endpoint,
    clientDefaults: { endpoint: sb.endpoint },
    refresh: { proactiveRefresh: false },
  });

async function failure(promise: Promise<unknown>): Promise<CredentialsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialsError);
  return error as CredentialsError;
}

describe('source credentials that cannot be loaded', () => {
  it('no credentials anywhere: SOURCE_CREDENTIALS_UNAVAILABLE, not retryable, naming what was tried', async () => {
    const sessions = cache();
    try {
      const s = sessions.get({ roleArn: ROLE });
      const error = await failure(s.credentials());
      expect(error).toMatchObject({
        code: 'SOURCE_CREDENTIALS_UNAVAILABLE',
        retryable: false,
        roleArn: ROLE,
        accountId: '111111111111',
        awsCode: 'CredentialsProviderError',
      });
      expect(error.message).toMatch(/default chain \(environment variables; SSO/);
      // Through a client the same error arrives, and no AWS operation was sent.
      const viaClient = await failure(
        s.client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({})),
      );
      expect(viaClient.code).toBe('SOURCE_CREDENTIALS_UNAVAILABLE');
      expect(viaClient.message).not.toMatch(/DescribeInstances/);
      expect(sb.admin.calls({ service: 'ec2' }) + sb.admin.calls({ service: 'sts' })).toBe(0);
      const source = await failure(sessions.sourceIdentity());
      expect(source.code).toBe('SOURCE_CREDENTIALS_UNAVAILABLE');
      expect(source.message).toMatch(/No source credentials to call STS/);
    } finally {
      sessions.close();
    }
  });

  it('a profile that does not exist: the same code', async () => {
    vi.stubEnv('AWS_PROFILE', 'no-such-profile');
    const sessions = cache();
    try {
      const error = await failure(sessions.get({ roleArn: ROLE }).credentials());
      expect(error.code).toBe('SOURCE_CREDENTIALS_UNAVAILABLE');
    } finally {
      sessions.close();
    }
  });

  it('once credentials appear the same cache works, and sourceIdentity names them', async () => {
    const sessions = cache();
    try {
      await failure(sessions.sourceIdentity());
      vi.stubEnv('AWS_ACCESS_KEY_ID', sb.credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', sb.credentials.secretAccessKey);
      await expect(sessions.sourceIdentity()).resolves.toMatchObject({
        account: '000000000000',
        arn: 'arn:aws:iam::000000000000:user/rolegraph-central',
      });
      // The non-recoverable error is remembered for 1-5 s; a new session asks again at once.
      sessions.delete({ roleArn: ROLE });
      await expect(sessions.get({ roleArn: ROLE }).credentials()).resolves.toMatchObject({
        accessKeyId: expect.stringMatching(/^ASIA/),
      });
    } finally {
      sessions.close();
    }
  });
});
