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

  it('session clients build no SDK info log entry per call; a logger of your own gets them', async () => {
    const options = {
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      refresh: { proactiveRefresh: false },
    };
    const quiet = createSessionCache({ ...options, clientDefaults: { endpoint: aws.endpoint } });
    const client = quiet
      .get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' })
      .client(EC2Client, 'us-east-1');
    const logger = (client as unknown as { config: { logger: Record<string, unknown> } }).config.logger;
    // Every method the SDK calls unguarded, and no `info`: its logger middleware builds the
    // filtered input and output only for `logger?.info?.(...)`.
    expect(typeof logger.debug).toBe('function');
    expect(typeof logger.warn).toBe('function');
    expect(logger.info).toBeUndefined();
    expect((await client.send(new DescribeRegionsCommand({}))).Regions?.length).toBeGreaterThan(0);
    quiet.close();

    const entries: unknown[] = [];
    const noop = () => {};
    const mine = {
      trace: noop,
      debug: noop,
      warn: noop,
      error: noop,
      info: (entry: unknown) => entries.push(entry),
    };
    const logged = createSessionCache({
      ...options,
      clientDefaults: { endpoint: aws.endpoint, logger: mine },
    });
    await logged
      .get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' })
      .client(EC2Client, 'us-east-1')
      .send(new DescribeRegionsCommand({}));
    expect(entries).toEqual([
      expect.objectContaining({ clientName: 'EC2Client', commandName: 'DescribeRegionsCommand' }),
    ]);
    logged.close();
  });

  it('defaultsMode and retryMode are shared per region, with the values the SDK reads itself', async () => {
    const options = {
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      refresh: { proactiveRefresh: false },
    };
    // maxAttempts only: the SDK builds its retry strategy from these at the first request.
    const sessions = createSessionCache({
      ...options,
      clientDefaults: { endpoint: aws.endpoint, maxAttempts: 2 },
    });
    type Regional = { config: { defaultsMode: () => Promise<unknown>; retryMode: () => Promise<string> } };
    const clientOf = (account: string, region: string) =>
      sessions
        .get({ roleArn: `arn:aws:iam::${account}:role/Reader` })
        .client(EC2Client, region) as unknown as Regional;
    const [a, b, c] = [
      clientOf('111122223333', 'us-east-1'),
      clientOf('444455556666', 'us-east-1'),
      clientOf('444455556666', 'eu-west-1'),
    ];
    // One retry mode provider per region; the client wraps the shared defaults mode in its own
    // memo, which asks the shared one instead of reading the environment and files again.
    expect(a.config.retryMode).toBe(b.config.retryMode);
    expect(c.config.retryMode).not.toBe(a.config.retryMode);
    const own = new EC2Client({
      region: 'us-east-1',
      credentials: base,
      endpoint: aws.endpoint,
      maxAttempts: 2,
    });
    const mine = own as unknown as Regional;
    expect(await a.config.retryMode()).toBe(await mine.config.retryMode());
    expect(await a.config.defaultsMode()).toBe(await mine.config.defaultsMode());
    expect(await c.config.retryMode()).toBe('standard');
    own.destroy();
    // A client that chooses its defaults mode resolves the retry mode from it itself.
    const chosen = createSessionCache({
      ...options,
      clientDefaults: { endpoint: aws.endpoint, defaultsMode: 'standard' },
    });
    const d = chosen
      .get({ roleArn: 'arn:aws:iam::111122223333:role/Reader' })
      .client(EC2Client, 'us-east-1') as unknown as Regional;
    expect(d.config.retryMode).not.toBe(a.config.retryMode);
    expect(await d.config.defaultsMode()).toBe('standard');
    // And the clients work.
    expect(
      (await (a as unknown as EC2Client).send(new DescribeRegionsCommand({}))).Regions?.length,
    ).toBeGreaterThan(0);
    chosen.close();
    sessions.close();
  });
});
