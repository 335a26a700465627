import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfig } from '../../src/config/load-config.js';

// Issue 12, reproduction 9: profile names are aliases and follow the alias rules, and no alias
// of any source is another account's id.

function files(profiles: Record<string, Record<string, string>>) {
  return async () => ({ configFile: profiles, credentialsFile: {} });
}

const staging = {
  alias: 'staging',
  roleArn: 'arn:aws:iam::222222222222:role/Reader',
  regions: ['us-east-1'],
};

async function refusal(input: Record<string, unknown>, profiles: Record<string, Record<string, string>>) {
  const error = await parseConfig(input, { file: 'gateway.yaml', loadFiles: files(profiles) }).catch(
    (e) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).message;
}

describe('profile names are validated like aliases', () => {
  it('a profile named 222222222222 whose role is in 444444444444, beside staging (222222222222): refused naming profiles.names', async () => {
    const message = await refusal(
      { accounts: [staging], profiles: { names: ['222222222222'] } },
      { '222222222222': { role_arn: 'arn:aws:iam::444444444444:role/Reader', region: 'us-east-1' } },
    );
    expect(message).toContain('profiles.names');
    expect(message).toContain('must not look like an account id');
  });

  it.each(['Prod Admin/../x', 'UPPER', '-lead', ''])(
    'profile %j is refused naming profiles.names',
    async (name) => {
      const message = await refusal(
        { profiles: { names: [name || ' '] } },
        { [name || ' ']: { role_arn: 'arn:aws:iam::444444444444:role/Reader' } },
      );
      expect(message).toContain('profiles.names');
      expect(message).toContain('cannot be an alias');
    },
  );

  it('a valid profile name is accepted as an alias', async () => {
    const config = await parseConfig(
      { accounts: [staging], profiles: { names: ['audit-reader'] } },
      {
        file: 'gateway.yaml',
        loadFiles: files({ 'audit-reader': { role_arn: 'arn:aws:iam::444444444444:role/Reader' } }),
      },
    );
    expect(config.accounts.map((a) => [a.alias, a.accountId])).toEqual([
      ['staging', '222222222222'],
      ['audit-reader', '444444444444'],
    ]);
  });
});
