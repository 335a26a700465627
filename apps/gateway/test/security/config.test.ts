import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile } from '../../src/config/load-config.js';

// Every malformed configuration fails at start with a ConfigError whose message names the file
// and the field path. Each case is written to a real file and read with loadConfigFile, as main does.

const dir = mkdtempSync(join(tmpdir(), 'rolegraph-security-config-'));
const reader = { alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/Reader', regions: ['us-east-1'] };
const staging = {
  alias: 'staging',
  roleArn: 'arn:aws:iam::222222222222:role/Reader',
  regions: ['eu-west-1'],
};
const apiKey = { name: 'ci', sha256: 'a'.repeat(64), accounts: ['prod'] };
const jwt = { issuer: 'https://id.example.com/', audience: 'rolegraph', secret: 's'.repeat(32) };
const org = { memberRoleArn: 'arn:aws:iam::{accountId}:role/RolegraphReader', regions: ['us-east-1'] };
const withAccount = (account: Record<string, unknown>) => ({ accounts: [{ ...reader, ...account }] });

interface Case {
  name: string;
  /** An object (written as JSON or YAML), or raw file text. */
  config: Record<string, unknown> | string;
  /** The field path the message must name; '' when the whole file is at fault. */
  path: string;
  ext?: 'json' | 'yaml';
  /** Also required in the message (the reason). */
  says?: RegExp;
}

const cases: Case[] = [
  // Missing fields
  {
    name: 'account without roleArn',
    config: { accounts: [{ alias: 'prod', regions: ['us-east-1'] }] },
    path: 'accounts[0].roleArn',
  },
  {
    name: 'account without alias',
    config: { accounts: [{ roleArn: reader.roleArn, regions: ['us-east-1'] }] },
    path: 'accounts[0].alias',
  },
  {
    name: 'account without regions',
    config: { accounts: [{ alias: 'prod', roleArn: reader.roleArn }] },
    path: 'accounts[0].regions',
  },
  {
    name: 'API key without sha256',
    config: { ...withAccount({}), auth: { apiKeys: [{ name: 'ci', accounts: ['prod'] }] } },
    path: 'auth.apiKeys[0].sha256',
  },
  {
    name: 'JWT without issuer',
    config: { ...withAccount({}), auth: { jwt: { audience: 'a', secret: 's'.repeat(32) } } },
    path: 'auth.jwt.issuer',
  },
  { name: 'profiles without names', config: { profiles: {} }, path: 'profiles.names' },
  // Wrong types
  { name: 'accounts is an object', config: { accounts: { prod: reader } }, path: 'accounts' },
  { name: 'regions is a string', config: withAccount({ regions: 'us-east-1' }), path: 'accounts[0].regions' },
  { name: 'regions is an empty list', config: withAccount({ regions: [] }), path: 'accounts[0].regions' },
  {
    name: 'durationSeconds is a string',
    config: withAccount({ durationSeconds: '3600' }),
    path: 'accounts[0].durationSeconds',
  },
  { name: 'port is a string', config: { ...withAccount({}), server: { port: '4000' } }, path: 'server.port' },
  { name: 'port out of range', config: { ...withAccount({}), server: { port: 70000 } }, path: 'server.port' },
  {
    name: 'graphiql is a string',
    config: { ...withAccount({}), server: { graphiql: 'yes' } },
    path: 'server.graphiql',
  },
  { name: 'cors is a string', config: { ...withAccount({}), server: { cors: '*' } }, path: 'server.cors' },
  { name: 'maxDepth is 0', config: { ...withAccount({}), limits: { maxDepth: 0 } }, path: 'limits.maxDepth' },
  {
    name: 'maxPageSize above 1000',
    config: { ...withAccount({}), limits: { maxPageSize: 5000 } },
    path: 'limits.maxPageSize',
  },
  {
    name: 'maxCost is a float',
    config: { ...withAccount({}), limits: { maxCost: 1.5 } },
    path: 'limits.maxCost',
  },
  { name: 'the file is a list', config: '- accounts\n', path: '', says: /expected object/i },
  // Bad ARNs and ids
  {
    name: 'roleArn is not an ARN',
    config: withAccount({ roleArn: 'not-an-arn' }),
    path: 'accounts[0].roleArn',
  },
  {
    name: 'roleArn is a user ARN',
    config: withAccount({ roleArn: 'arn:aws:iam::111111111111:user/alice' }),
    path: 'accounts[0].roleArn',
  },
  {
    name: 'roleArn has an 11-digit account',
    config: withAccount({ roleArn: 'arn:aws:iam::11111111111:role/Reader' }),
    path: 'accounts[0].roleArn',
  },
  {
    name: 'roleArn of another service',
    config: withAccount({ roleArn: 'arn:aws:sts::111111111111:role/Reader' }),
    path: 'accounts[0].roleArn',
  },
  {
    name: 'accountId is not 12 digits',
    config: withAccount({ accountId: '1234' }),
    path: 'accounts[0].accountId',
  },
  {
    name: 'accountId does not match the ARN',
    config: withAccount({ accountId: '999999999999' }),
    path: 'accounts[0].accountId',
    says: /roleArn/,
  },
  {
    name: 'alias looks like an account id',
    config: withAccount({ alias: '123456789012' }),
    path: 'accounts[0].alias',
  },
  { name: 'alias with upper case', config: withAccount({ alias: 'Prod' }), path: 'accounts[0].alias' },
  // Duplicates
  {
    name: 'duplicate alias',
    config: { accounts: [reader, { ...staging, alias: 'prod' }] },
    path: 'accounts[1]',
    says: /duplicate account prod/,
  },
  {
    name: 'duplicate account id',
    config: { accounts: [reader, { ...reader, alias: 'prod-two' }] },
    path: 'accounts[1]',
    says: /duplicate account 111111111111/,
  },
  // Unknown keys at every level
  { name: 'unknown root key', config: { ...withAccount({}), acounts: [] }, path: '', says: /acounts/ },
  { name: 'unknown account key', config: withAccount({ rolArn: 'x' }), path: 'accounts[0]', says: /rolArn/ },
  {
    name: 'unknown server key',
    config: { ...withAccount({}), server: { prot: 1 } },
    path: 'server',
    says: /prot/,
  },
  {
    name: 'unknown cors key',
    config: { ...withAccount({}), server: { cors: { origins: ['https://a.test'], origin: 'x' } } },
    path: 'server.cors',
    says: /origin/,
  },
  {
    name: 'unknown auth key',
    config: { ...withAccount({}), auth: { apiKeys: [apiKey], keys: [] } },
    path: 'auth',
    says: /keys/,
  },
  {
    name: 'unknown API key key',
    config: { ...withAccount({}), auth: { apiKeys: [{ ...apiKey, key: 'plain' }] } },
    path: 'auth.apiKeys[0]',
    says: /key/,
  },
  {
    name: 'unknown JWT key',
    config: { ...withAccount({}), auth: { jwt: { ...jwt, issuers: [] } } },
    path: 'auth.jwt',
    says: /issuers/,
  },
  {
    name: 'unknown limits key',
    config: { ...withAccount({}), limits: { maxDepht: 3 } },
    path: 'limits',
    says: /maxDepht/,
  },
  {
    name: 'unknown aws key',
    config: { ...withAccount({}), aws: { region: 'us-east-1' } },
    path: 'aws',
    says: /region/,
  },
  {
    name: 'unknown profiles key',
    config: { profiles: { names: ['a'], file: 'x' } },
    path: 'profiles',
    says: /file/,
  },
  // Empty / no accounts
  { name: 'empty accounts list', config: { accounts: [] }, path: 'accounts' },
  { name: 'empty file', config: '', path: 'accounts' },
  // Regions
  { name: 'bad region name', config: withAccount({ regions: ['mars-1'] }), path: 'accounts[0].regions[0]' },
  {
    name: 'region in upper case',
    config: withAccount({ regions: ['US-EAST-1'] }),
    path: 'accounts[0].regions[0]',
  },
  {
    name: 'bad stsRegion',
    config: { ...withAccount({}), aws: { stsRegion: 'global' } },
    path: 'aws.stsRegion',
  },
  {
    name: 'endpoint is not a URL',
    config: { ...withAccount({}), aws: { endpoint: 'localhost:4566' } },
    path: 'aws.endpoint',
  },
  // Session settings
  {
    name: 'durationSeconds below 900',
    config: withAccount({ durationSeconds: 899 }),
    path: 'accounts[0].durationSeconds',
  },
  {
    name: 'durationSeconds above 43200',
    config: withAccount({ durationSeconds: 43201 }),
    path: 'accounts[0].durationSeconds',
  },
  {
    name: 'a short durationSeconds without aws.sandbox.allowShortSessions',
    config: { ...withAccount({ durationSeconds: 60 }), aws: { endpoint: 'http://127.0.0.1:4566' } },
    path: 'accounts[0].durationSeconds',
    says: /aws\.sandbox\.allowShortSessions/,
  },
  {
    name: 'allowShortSessions against real AWS (no endpoint)',
    config: { ...withAccount({ durationSeconds: 60 }), aws: { sandbox: { allowShortSessions: true } } },
    path: 'aws.sandbox.allowShortSessions',
    says: /loopback/,
  },
  {
    name: 'allowShortSessions against an endpoint that is not on this machine',
    config: {
      ...withAccount({}),
      aws: { endpoint: 'https://sts.127.0.0.1.example.com', sandbox: { allowShortSessions: true } },
    },
    path: 'aws.sandbox.allowShortSessions',
  },
  {
    name: 'sessionName with a space',
    config: withAccount({ sessionName: 'my session' }),
    path: 'accounts[0].sessionName',
  },
  {
    name: 'sessionName of one character',
    config: withAccount({ sessionName: 'a' }),
    path: 'accounts[0].sessionName',
  },
  {
    name: 'sessionName over 64 characters',
    config: withAccount({ sessionName: 'a'.repeat(65) }),
    path: 'accounts[0].sessionName',
  },
  {
    name: 'externalId of one character',
    config: withAccount({ externalId: 'x' }),
    path: 'accounts[0].externalId',
  },
  // Server exposure and auth
  {
    name: 'non-loopback host without auth',
    config: { ...withAccount({}), server: { host: '0.0.0.0' } },
    path: 'auth',
    says: /server\.host/,
  },
  {
    name: 'non-loopback host with an empty auth',
    config: { ...withAccount({}), server: { host: '10.0.0.1' }, auth: {} },
    path: 'auth',
  },
  {
    name: 'API key hash of 63 hex digits',
    config: { ...withAccount({}), auth: { apiKeys: [{ ...apiKey, sha256: 'a'.repeat(63) }] } },
    path: 'auth.apiKeys[0].sha256',
  },
  {
    name: 'API key hash not hex',
    config: { ...withAccount({}), auth: { apiKeys: [{ ...apiKey, sha256: 'z'.repeat(64) }] } },
    path: 'auth.apiKeys[0].sha256',
  },
  {
    name: 'API key for an unknown account',
    config: { ...withAccount({}), auth: { apiKeys: [{ ...apiKey, accounts: ['nope'] }] } },
    path: 'auth.apiKeys[0].accounts[0]',
  },
  {
    name: 'API key with no accounts',
    config: { ...withAccount({}), auth: { apiKeys: [{ ...apiKey, accounts: [] }] } },
    path: 'auth.apiKeys[0].accounts',
  },
  {
    name: 'JWT without a key',
    config: { ...withAccount({}), auth: { jwt: { issuer: 'i', audience: 'a' } } },
    path: 'auth.jwt',
    says: /exactly one of secret, jwksUrl or publicKey/,
  },
  {
    name: 'JWT with two keys',
    config: { ...withAccount({}), auth: { jwt: { ...jwt, jwksUrl: 'https://id.example.com/jwks' } } },
    path: 'auth.jwt',
  },
  {
    name: 'JWT secret under 32 characters',
    config: { ...withAccount({}), auth: { jwt: { ...jwt, secret: 'short' } } },
    path: 'auth.jwt.secret',
  },
  {
    name: 'JWT algorithm none',
    config: { ...withAccount({}), auth: { jwt: { ...jwt, algorithms: ['none'] } } },
    path: 'auth.jwt.algorithms[0]',
  },
  {
    name: 'JWT publicKey that is not a PEM key',
    config: { ...withAccount({}), auth: { jwt: { issuer: 'i', audience: 'a', publicKey: 'not a key' } } },
    path: 'auth.jwt.publicKey',
  },
  // Syntax
  {
    name: 'bad YAML syntax',
    config: 'accounts:\n  - alias: prod\n   roleArn: [unclosed\n',
    path: '',
    ext: 'yaml',
    says: /is not valid YAML/,
  },
  { name: 'bad JSON syntax', config: '{ "accounts": [ }', path: '', ext: 'json', says: /is not valid JSON/ },
  {
    name: 'JSON with a trailing comma',
    config: '{ "accounts": [], }',
    path: '',
    ext: 'json',
    says: /is not valid JSON/,
  },
  // The organization as an account source
  {
    name: 'organization without memberRoleArn',
    config: { organization: { regions: ['us-east-1'] } },
    path: 'organization.memberRoleArn',
  },
  {
    name: 'organization memberRoleArn without {accountId}',
    config: { organization: { ...org, memberRoleArn: 'arn:aws:iam::111111111111:role/Reader' } },
    path: 'organization.memberRoleArn',
    says: /\{accountId\}/,
  },
  {
    name: 'organization memberRoleArn with {accountId} outside the account field',
    config: { organization: { ...org, memberRoleArn: 'arn:aws:iam::111111111111:role/{accountId}' } },
    path: 'organization.memberRoleArn',
  },
  {
    name: 'organization without regions',
    config: { organization: { memberRoleArn: org.memberRoleArn } },
    path: 'organization.regions',
  },
  {
    name: 'organization regions neither a list nor "enabled"',
    config: { organization: { ...org, regions: 'all' } },
    path: 'organization.regions',
    says: /enabled/,
  },
  {
    name: 'organization roleArn that is not a role ARN',
    config: { organization: { ...org, roleArn: 'arn:aws:iam::000000000000:user/central' } },
    path: 'organization.roleArn',
  },
  {
    name: 'organization include entry that is neither an OU id nor a path',
    config: { organization: { ...org, include: ['Workloads//Prod'] } },
    path: 'organization.include[0]',
  },
  {
    name: 'organization OU both included and excluded',
    config: { organization: { ...org, include: ['Workloads'], exclude: ['Workloads'] } },
    path: 'organization.exclude',
  },
  {
    name: 'organization unknown state',
    config: { organization: { ...org, states: ['ACTIVE', 'RETIRED'] } },
    path: 'organization.states[1]',
  },
  {
    name: 'organization skipAccounts entry not 12 digits',
    config: { organization: { ...org, skipAccounts: ['12345'] } },
    path: 'organization.skipAccounts[0]',
  },
  {
    name: 'organization alias override that looks like an account id',
    config: { organization: { ...org, aliases: { '111111111111': '222222222222' } } },
    path: 'organization.aliases.111111111111',
  },
  {
    name: 'organization alias override for an account configured statically',
    config: { accounts: [reader], organization: { ...org, aliases: { '111111111111': 'main' } } },
    path: 'organization.aliases.111111111111',
    says: /accounts or profiles win/,
  },
  {
    name: 'organization alias override taking a static alias',
    config: { accounts: [reader], organization: { ...org, aliases: { '333333333333': 'prod' } } },
    path: 'organization.aliases.333333333333',
  },
  {
    name: 'organization two overrides with one alias',
    config: { organization: { ...org, aliases: { '111111111111': 'a', '222222222222': 'a' } } },
    path: 'organization.aliases.222222222222',
  },
  {
    name: 'organization unknown key',
    config: { organization: { ...org, memberRole: 'x' } },
    path: 'organization',
  },
  {
    name: 'organization rediscoverSeconds negative',
    config: { organization: { ...org, rediscoverSeconds: -1 } },
    path: 'organization.rediscoverSeconds',
  },
  {
    name: 'organization memberDurationSeconds under 900 without allowShortSessions',
    config: { organization: { ...org, memberDurationSeconds: 60 } },
    path: 'organization.memberDurationSeconds',
  },
  {
    name: 'API key naming an OU without an organization',
    config: { accounts: [reader], auth: { apiKeys: [{ ...apiKey, accounts: ['ou:Workloads/Prod'] }] } },
    path: 'auth.apiKeys[0].accounts[0]',
    says: /no organization is configured/,
  },
  {
    name: 'API key entry that is no alias, id or OU with an organization',
    config: { organization: org, auth: { apiKeys: [{ ...apiKey, accounts: ['Prod Team'] }] } },
    path: 'auth.apiKeys[0].accounts[0]',
  },
];

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

function write(c: Case, index: number, ext: 'json' | 'yaml'): string {
  const file = join(dir, `case-${index}.${ext}`);
  const text =
    typeof c.config === 'string'
      ? c.config
      : ext === 'json'
        ? JSON.stringify(c.config)
        : // JSON is valid YAML 1.2 flow syntax: the same object through the YAML parser.
          JSON.stringify(c.config, null, 2);
  writeFileSync(file, text);
  return file;
}

describe('malformed configuration fails at start, naming the file and the field', () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const exts = c.ext
      ? [c.ext]
      : typeof c.config === 'string'
        ? (['yaml'] as const)
        : (['yaml', 'json'] as const);
    for (const ext of exts) {
      const file = write(c, i, ext);
      const error = await configErrorOf(loadConfigFile(file));
      expect(error.message.startsWith(`${file}: `)).toBe(true);
      expect(error.file).toBe(file);
      expect(error.issues.map((issue) => issue.path)).toContain(c.path);
      if (c.path) expect(error.message).toContain(`${c.path}: `);
      if (c.says) expect(error.message).toMatch(c.says);
    }
  });

  it('a missing file is named, with the reason', async () => {
    const file = join(dir, 'does-not-exist.yaml');
    const error = await configErrorOf(loadConfigFile(file));
    expect(error.message).toBe(`${file}: cannot be read (ENOENT)`);
  });

  it('a missing AWS profile file is named with the gateway file and the profiles field', async () => {
    const profileFile = join(dir, 'no-such-aws-config');
    const file = join(dir, 'profiles.yaml');
    writeFileSync(file, JSON.stringify({ profiles: { names: ['prod-reader'], configFile: profileFile } }));
    const error = await configErrorOf(loadConfigFile(file));
    expect(error.message.startsWith(`${file}: `)).toBe(true);
    expect(error.message).toContain('profiles.configFile: ');
    expect(error.message).toContain(profileFile);
  });

  it('an unknown profile in an existing AWS file names both files and the profile', async () => {
    const profileFile = join(dir, 'aws-config');
    writeFileSync(profileFile, '[profile other]\nrole_arn = arn:aws:iam::111111111111:role/Reader\n');
    const credentialsFile = join(dir, 'aws-credentials');
    writeFileSync(credentialsFile, '');
    const file = join(dir, 'profiles-unknown.yaml');
    writeFileSync(
      file,
      JSON.stringify({ profiles: { names: ['ghost'], configFile: profileFile, credentialsFile } }),
    );
    const error = await configErrorOf(loadConfigFile(file));
    expect(error.message.startsWith(`${file}: `)).toBe(true);
    expect(error.message).toContain('profiles.ghost: ');
    expect(error.message).toContain(profileFile);
  });

  it('a valid file with the same shapes loads (the table is not refusing everything)', async () => {
    const file = join(dir, 'valid.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [
          { ...reader, accountId: '111111111111', sessionName: 'rolegraph', durationSeconds: 900 },
          staging,
        ],
        server: { host: '0.0.0.0', cors: { origins: ['https://a.test'] } },
        auth: { apiKeys: [apiKey], jwt: { ...jwt, algorithms: ['HS256'] } },
        limits: { maxDepth: 3, maxPageSize: 1000 },
        aws: { stsRegion: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' },
      }),
    );
    const config = await loadConfigFile(file);
    expect(config.accounts.map((a) => a.accountId)).toEqual(['111111111111', '222222222222']);
  });
});
