import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfigFile, parseConfig } from './load-config.js';
import type { ProfileFiles } from './load-profiles.js';

const reader = { alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/Reader', regions: ['us-east-1'] };

async function issuesOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills defaults and derives the account id from the role ARN', async () => {
    const config = await parseConfig({ accounts: [reader] });
    expect(config.accounts[0]?.accountId).toBe('111111111111');
    expect(config.server).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      graphiql: false,
      cors: false,
      maxConcurrentAccounts: 256,
    });
    expect(config.limits.maxDepth).toBe(10);
  });

  it('rejects unknown keys, naming the file and the field path', async () => {
    const error = await issuesOf(
      parseConfig({ accounts: [{ ...reader, rolArn: 'x' }], server: { prot: 1 } }, { file: 'gateway.yaml' }),
    );
    expect(error.message).toMatch(/^gateway\.yaml: /);
    expect(error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['accounts[0]', 'server']));
    expect(error.message).toMatch(/rolArn/);
  });

  it('names the bad field: role ARN, region, duration, duplicate alias, mismatched account id', async () => {
    const error = await issuesOf(
      parseConfig({
        accounts: [
          { ...reader, roleArn: 'not-an-arn' },
          { ...reader, regions: ['mars-1'] },
          { ...reader, alias: 'other', durationSeconds: 60 },
          { ...reader, alias: 'x', accountId: '222222222222' },
        ],
      }),
    );
    const paths = error.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'accounts[0].roleArn',
        'accounts[1].regions[0]',
        'accounts[2].durationSeconds',
        'accounts[1]',
        'accounts[3].accountId',
      ]),
    );
  });

  it('refuses a non-loopback host without auth', async () => {
    const error = await issuesOf(parseConfig({ accounts: [reader], server: { host: '0.0.0.0' } }));
    expect(error.issues[0]?.path).toBe('auth');
    await expect(
      parseConfig({
        accounts: [reader],
        server: { host: '0.0.0.0' },
        auth: { apiKeys: [{ name: 'ci', sha256: 'a'.repeat(64), accounts: ['prod'] }] },
      }),
    ).resolves.toBeTruthy();
  });

  it('checks API key allow-lists and JWT key sources', async () => {
    const unknown = await issuesOf(
      parseConfig({
        accounts: [reader],
        auth: { apiKeys: [{ name: 'ci', sha256: 'a'.repeat(64), accounts: ['nope'] }] },
      }),
    );
    expect(unknown.issues[0]?.path).toBe('auth.apiKeys[0].accounts[0]');
    const twoKeys = await issuesOf(
      parseConfig({
        accounts: [reader],
        auth: { jwt: { issuer: 'i', audience: 'a', secret: 's'.repeat(32), jwksUrl: 'https://x.test/jwks' } },
      }),
    );
    expect(twoKeys.issues[0]?.path).toBe('auth.jwt');
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rolegraph-config-'));

  it('reads YAML and JSON', async () => {
    const yamlFile = join(dir, 'gateway.yaml');
    writeFileSync(
      yamlFile,
      'accounts:\n  - alias: prod\n    roleArn: arn:aws:iam::111111111111:role/Reader\n    regions: [us-east-1, eu-west-1]\nserver:\n  port: 8080\n',
    );
    const jsonFile = join(dir, 'gateway.json');
    writeFileSync(jsonFile, JSON.stringify({ accounts: [reader] }));
    expect((await loadConfigFile(yamlFile)).server.port).toBe(8080);
    expect((await loadConfigFile(jsonFile)).accounts).toHaveLength(1);
  });

  it('names the file when it is missing, unparsable or invalid', async () => {
    const missing = await issuesOf(loadConfigFile(join(dir, 'missing.yaml')));
    expect(missing.message).toContain('missing.yaml');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    expect((await issuesOf(loadConfigFile(broken))).message).toMatch(/broken\.json: is not valid JSON/);
    const invalid = join(dir, 'invalid.yaml');
    writeFileSync(invalid, 'accounts:\n  - alias: prod\n    roleArn: nope\n    regions: [us-east-1]\n');
    expect((await issuesOf(loadConfigFile(invalid))).message).toMatch(
      /invalid\.yaml: accounts\[0\]\.roleArn/,
    );
  });
});

describe('accounts from AWS CLI profiles', () => {
  const files: ProfileFiles = {
    configFile: {
      'prod-reader': {
        role_arn: 'arn:aws:iam::111111111111:role/Reader',
        source_profile: 'hub',
        external_id: 'ext-123',
        duration_seconds: '1800',
        region: 'eu-west-1',
      },
      hub: { role_arn: 'arn:aws:iam::999999999999:role/Hub', source_profile: 'base' },
      'with-mfa': {
        role_arn: 'arn:aws:iam::222222222222:role/Reader',
        mfa_serial: 'arn:aws:iam::1:mfa/x',
        source_profile: 'base',
      },
      plain: { region: 'us-east-1' },
    },
    credentialsFile: { base: { aws_access_key_id: 'AKIAEXAMPLEEXAMPLE', aws_secret_access_key: 'secret' } },
  };
  const loadFiles = async () => files;

  it('reads role_arn, source_profile chains, external_id, duration_seconds and region', async () => {
    const config = await parseConfig({ profiles: { names: ['prod-reader'] } }, { loadFiles });
    expect(config.accounts).toEqual([
      {
        alias: 'prod-reader',
        accountId: '111111111111',
        roleArn: 'arn:aws:iam::111111111111:role/Reader',
        externalId: 'ext-123',
        regions: ['eu-west-1'],
        sessionName: undefined,
        durationSeconds: 1800,
        source: {
          kind: 'role',
          profile: 'hub',
          roleArn: 'arn:aws:iam::999999999999:role/Hub',
          source: {
            kind: 'static',
            profile: 'base',
            accessKeyId: 'AKIAEXAMPLEEXAMPLE',
            secretAccessKey: 'secret',
            sessionToken: undefined,
          },
        },
      },
    ]);
  });

  it('refuses mfa_serial, profiles without role_arn and unknown profiles, naming each', async () => {
    const error = await issuesOf(
      parseConfig({ profiles: { names: ['with-mfa', 'plain', 'ghost'] } }, { loadFiles }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'profiles.with-mfa.mfa_serial',
      'profiles.plain.role_arn',
      'profiles.ghost',
    ]);
    expect(error.message).not.toContain('secret');
  });
});

describe('parseConfig: organization', () => {
  const org = { memberRoleArn: 'arn:aws:iam::{accountId}:role/RolegraphReader', regions: ['us-east-1'] };

  it('an organization alone is enough; defaults: whole organization, ACTIVE only, every 300 s', async () => {
    const config = await parseConfig({ organization: org });
    expect(config.accounts).toEqual([]);
    expect(config.organization).toEqual({
      ...org,
      include: [],
      exclude: [],
      skipAccounts: [],
      states: ['ACTIVE'],
      aliases: {},
      rediscoverSeconds: 300,
    });
    const enabled = await parseConfig({ organization: { ...org, regions: 'enabled', rediscoverSeconds: 0 } });
    expect(enabled.organization?.regions).toBe('enabled');
  });

  it('API keys may name OUs and accounts known only after discovery', async () => {
    const config = await parseConfig({
      accounts: [reader],
      organization: org,
      auth: {
        apiKeys: [
          {
            name: 'team',
            sha256: 'a'.repeat(64),
            accounts: [
              'prod',
              'ou-ab12-11111111',
              'r-ab12',
              'ou:Workloads/Prod',
              'payments-eu',
              '666666666666',
            ],
          },
        ],
      },
    });
    expect(config.auth?.apiKeys[0]?.accounts).toHaveLength(6);
  });
});
