import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF, gql, type Harness } from '../helpers.js';
import { CENTRAL } from './org-fixture.js';
import { startOrgHarness } from './org-harness.js';

// A client no one here wrote: Debian's awscli lists the sandbox's organization, and the gateway's
// `accounts` must agree with it, account by account and state by state. On CI (CI=true) a missing
// awscli fails the test; elsewhere it is skipped with a visible warning.

function available(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const onCi = process.env.CI === 'true';
const awsBin = ['/usr/bin/aws', 'aws'].find((bin) => available(bin, ['--version']));
if (!onCi && awsBin === undefined)
  console.warn('organization awscli test: skipped, `aws` is not installed (apt-get install awscli)');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function aws(endpoint: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      awsBin ?? 'aws',
      ['--endpoint-url', endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
          AWS_ACCESS_KEY_ID: CENTRAL.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CENTRAL.secretAccessKey,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          // Nothing may leave the machine: the endpoint is loopback, anything else hits a dead proxy.
          HTTPS_PROXY: 'http://127.0.0.1:9',
          HTTP_PROXY: 'http://127.0.0.1:9',
          NO_PROXY: '127.0.0.1',
        },
        timeout: 180_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

let harness: Harness;
beforeAll(async () => {
  // Every state is kept, so both sides list the whole organization; empty pages on, so both
  // sides must follow NextToken through them.
  harness = await startOrgHarness({
    organization: { states: ['PENDING_ACTIVATION', 'ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'] },
    sandbox: { organizations: { emptyPages: true } },
  });
});
afterAll(async () => {
  await harness?.close();
});

describe('awscli against the sandbox', () => {
  it.skipIf(!onCi && awsBin === undefined)(
    '`aws organizations list-accounts` lists the same accounts and states as the gateway’s `accounts`',
    async () => {
      expect(awsBin, 'aws CLI must be installed on CI').toBeDefined();
      const listed = await aws(harness.sandbox.endpoint, ['organizations', 'list-accounts']);
      expect(listed.code, listed.stderr).toBe(0);
      const cli = (
        JSON.parse(listed.stdout) as { Accounts: Array<{ Id: string; State?: string; Status?: string }> }
      ).Accounts.map((a) => [a.Id, a.State ?? a.Status ?? '']).sort();
      // awscli 2.9's model predates `State`: it shows the legacy `Status`, which agrees with
      // `State` for ACTIVE, SUSPENDED and PENDING_CLOSURE (the states of this fixture).
      expect(new Set(cli.map(([, state]) => state))).toEqual(
        new Set(['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE']),
      );

      const res = await gql<{ accounts: Array<{ accountId: string; state: string }> }>(
        harness.gateway,
        '{ accounts { accountId state } }',
        undefined,
        CSRF,
      );
      expect(res.body.errors).toBeUndefined();
      const gateway = (res.body.data?.accounts ?? []).map((a) => [a.accountId, a.state]).sort();
      expect(gateway).toEqual(cli);
      expect(gateway).toHaveLength(9);
    },
    200_000,
  );
});
