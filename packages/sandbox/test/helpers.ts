import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Sandbox } from '../src/index.js';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export function stsClient(
  sb: Sandbox,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = sb.credentials,
  region = 'us-east-1',
): STSClient {
  return new STSClient({ endpoint: sb.endpoint, region, credentials, maxAttempts: 1 });
}

export async function assume(
  sb: Sandbox,
  roleArn: string,
  options: { durationSeconds?: number; credentials?: Sandbox['credentials'] | SessionCredentials } = {},
): Promise<SessionCredentials> {
  const out = await stsClient(sb, options.credentials ?? sb.credentials).send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: 'test-session',
      DurationSeconds: options.durationSeconds,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
    throw new Error('no credentials');
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

export function readerArn(sb: Sandbox, alias: string): string {
  const role = sb.fixture.accounts
    .find((a) => a.alias === alias)
    ?.roles.find((r) => r.name === 'RolegraphReader');
  if (!role) throw new Error(`no reader role in ${alias}`);
  return role.arn;
}

export function account(sb: Sandbox, alias: string) {
  const found = sb.fixture.accounts.find((a) => a.alias === alias);
  if (!found) throw new Error(`no account ${alias}`);
  return found;
}
