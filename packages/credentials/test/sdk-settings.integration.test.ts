import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCache } from '../src/index.js';
import { sharedSdkSettings } from '../src/sdk-settings.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';

// Read before the first client of this file's process exists: the shared providers read the
// environment once, as each client would at its first request.
process.env.AWS_SDK_UA_APP_ID = 'rolegraph-test-app';

const base = { accessKeyId: 'AKIABASEPRINCIPAL', secretAccessKey: 'base-secret-value' };
let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

interface SettingsConfig {
  config: { userAgentAppId: () => Promise<string | undefined>; useFipsEndpoint: () => Promise<boolean> };
}

describe('the SDK settings from the environment and profile files', () => {
  it('every session client shares one provider per setting, with the value the SDK reads itself', async () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      clientDefaults: { endpoint: aws.endpoint },
      refresh: { proactiveRefresh: false },
    });
    const clients = [
      sessions.get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' }).client(EC2Client, 'us-east-1'),
      sessions.get({ roleArn: 'arn:aws:iam::444455556666:role/Reader' }).client(EC2Client, 'eu-west-1'),
    ];
    const own = new EC2Client({ region: 'us-east-1', credentials: base, endpoint: aws.endpoint });
    const [a, b] = clients as unknown as SettingsConfig[];
    // The same answers as a client that reads them for itself.
    const mine = own as unknown as SettingsConfig;
    expect(await a?.config.userAgentAppId()).toBe('rolegraph-test-app');
    expect(await a?.config.userAgentAppId()).toBe(await mine.config.userAgentAppId());
    expect(await a?.config.useFipsEndpoint()).toBe(await mine.config.useFipsEndpoint());
    expect(await b?.config.useFipsEndpoint()).toBe(false);
    // Read once per process: a session client made after the environment changed still has
    // the first answer, where a client of its own reads the environment again.
    process.env.AWS_SDK_UA_APP_ID = 'changed-later';
    const later = sessions
      .get({ roleArn: 'arn:aws:iam::777788889999:role/Reader' })
      .client(EC2Client, 'us-west-2') as unknown as SettingsConfig;
    const fresh = new EC2Client({ region: 'us-east-1', credentials: base, endpoint: aws.endpoint });
    expect(await later.config.userAgentAppId()).toBe('rolegraph-test-app');
    expect(await (fresh as unknown as SettingsConfig).config.userAgentAppId()).toBe('changed-later');
    fresh.destroy();
    // And the clients still work.
    const out = await clients[0]?.send(new DescribeRegionsCommand({}));
    expect(out?.Regions?.[0]?.RegionName).toBe('us-east-1');
    own.destroy();
    sessions.close();
  });

  it('a client given a profile (clientDefaults) reads the settings of that profile itself', async () => {
    const sharedAnswer = await sharedSdkSettings().userAgentAppId(); // read (once) before the change
    process.env.AWS_SDK_UA_APP_ID = 'read-by-the-client';
    const sessions = createSessionCache({
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      clientDefaults: { endpoint: aws.endpoint, profile: 'other' },
      refresh: { proactiveRefresh: false },
    });
    const client = sessions
      .get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' })
      .client(EC2Client, 'us-east-1') as unknown as SettingsConfig;
    expect(sharedAnswer).not.toBe('read-by-the-client');
    expect(await client.config.userAgentAppId()).toBe('read-by-the-client');
    sessions.close();
  });

  it('a setting the caller gives wins over the shared one', async () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      clientDefaults: { endpoint: aws.endpoint, userAgentAppId: 'mine' },
      refresh: { proactiveRefresh: false },
    });
    const client = sessions
      .get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' })
      .client(EC2Client, 'us-east-1') as unknown as SettingsConfig;
    expect(await client.config.userAgentAppId()).toBe('mine');
    sessions.close();
  });
});
