import { execFile, execFileSync } from 'node:child_process';
import { type Account, OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_PROXY } from '../src/banner.js';
import { demoFixture, type Sandbox, startSandbox } from '../src/index.js';
import { account, readerArn } from './helpers.js';

/**
 * Clients no one here wrote: the `aws` CLI and boto3/botocore. On CI (CI=true) a missing tool fails the
 * test; elsewhere the test is skipped with a visible warning.
 */
function available(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const onCi = process.env.CI === 'true';
// Prefer Debian's packages (/usr/bin) over whatever else is on PATH.
const awsBin = ['/usr/bin/aws', 'aws'].find((bin) => available(bin, ['--version']));
const pythonBin = ['/usr/bin/python3', 'python3'].find((bin) =>
  available(bin, ['-c', 'import boto3, botocore']),
);
const hasAws = awsBin !== undefined;
const hasBoto = pythonBin !== undefined;
if (!onCi && !hasAws)
  console.warn('real-clients: skipping aws CLI tests: `aws` is not installed (apt-get install awscli)');
if (!onCi && !hasBoto)
  console.warn(
    'real-clients: skipping boto3 tests: python3 boto3 is not installed (apt-get install python3-boto3)',
  );

let sb: Sandbox;
let offset = 0;

beforeAll(async () => {
  sb = await startSandbox({
    fixture: demoFixture(),
    allowShortSessions: true,
    now: () => Date.now() + offset,
  });
});
afterAll(async () => {
  await sb.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

function aws(
  args: string[],
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<Run> {
  // AWS_PAGER='' rather than --no-cli-pager, which AWS CLI v1 does not know.
  return run(
    awsBin ?? 'aws',
    ['--endpoint-url', sb.endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
    {
      AWS_PAGER: '',
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  );
}

// Real clients start a Python interpreter per call: slow on a loaded 2-core machine.
const REAL_CLIENT_TIMEOUT_MS = 180_000;

describe('aws CLI', () => {
  it.skipIf(!onCi && !hasAws)(
    'assumes a role, lists instances and buckets, and gets ExpiredToken when stale',
    async () => {
      expect(hasAws, 'aws CLI must be installed on CI').toBe(true);
      const assumed = await aws(
        [
          'sts',
          'assume-role',
          '--role-arn',
          readerArn(sb, 'prod'),
          '--role-session-name',
          'cli',
          '--duration-seconds',
          '900',
        ],
        sb.credentials,
      );
      expect(assumed.stderr).toBe('');
      const c = (JSON.parse(assumed.stdout) as { Credentials: Record<string, string> }).Credentials;
      const creds = {
        accessKeyId: c.AccessKeyId ?? '',
        secretAccessKey: c.SecretAccessKey ?? '',
        sessionToken: c.SessionToken ?? '',
      };
      const instances = await aws(['ec2', 'describe-instances'], creds);
      expect(instances.code, instances.stderr).toBe(0);
      const reservations = (JSON.parse(instances.stdout) as { Reservations: unknown[] }).Reservations;
      expect(reservations).toHaveLength(
        account(sb, 'prod').instances.filter((i) => i.region === 'us-east-1').length,
      );
      const buckets = await aws(['s3api', 'list-buckets'], creds);
      expect(buckets.code, buckets.stderr).toBe(0);
      expect(
        (JSON.parse(buckets.stdout) as { Buckets: { Name: string }[] }).Buckets.map((b) => b.Name),
      ).toEqual(
        account(sb, 'prod')
          .buckets.map((b) => b.name)
          .sort(),
      );
      const missing = await aws(
        ['ec2', 'describe-instances', '--instance-ids', 'i-0123456789abcdef0'],
        creds,
      );
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/InvalidInstanceID\.NotFound/);
      offset += 901_000;
      try {
        const stale = await aws(['sts', 'get-caller-identity'], creds);
        expect(stale.code).not.toBe(0);
        expect(stale.stderr).toMatch(/ExpiredToken/);
        const staleEc2 = await aws(['ec2', 'describe-regions'], creds);
        expect(staleEc2.stderr).toMatch(/RequestExpired/);
      } finally {
        offset -= 901_000;
      }
    },
    // Each CLI or Python run is capped at 60 s; the whole test gets room for several under load.
    REAL_CLIENT_TIMEOUT_MS,
  );
});

describe('aws CLI: organizations', () => {
  it.skipIf(!onCi && !hasAws)(
    'list-accounts under a dead proxy lists the accounts the SDK lists, across empty pages and page size 1',
    async () => {
      expect(hasAws, 'aws CLI must be installed on CI').toBe(true);
      const sdk: Account[] = [];
      const client = new OrganizationsClient({
        endpoint: sb.endpoint,
        region: 'us-east-1',
        credentials: sb.credentials,
      });
      for await (const page of paginateListAccounts({ client }, {})) sdk.push(...(page.Accounts ?? []));
      expect(sdk.length).toBe(sb.fixture.accounts.length);
      const cli = (extra: string[]) =>
        run(
          awsBin ?? 'aws',
          [
            'organizations',
            'list-accounts',
            '--endpoint-url',
            sb.endpoint,
            '--region',
            'us-east-1',
            '--output',
            'json',
            ...extra,
          ],
          {
            AWS_PAGER: '',
            AWS_ACCESS_KEY_ID: sb.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: sb.credentials.secretAccessKey,
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
            // Anything not sent to the sandbox dies at this proxy instead of reaching AWS.
            HTTPS_PROXY: DEAD_PROXY,
            HTTP_PROXY: DEAD_PROXY,
            NO_PROXY: '127.0.0.1',
          },
        );
      // awscli 2.9's model predates `State`: it prints the legacy Status.
      const expected = sdk.map((a) => ({
        Id: a.Id,
        Name: a.Name,
        Email: a.Email,
        Status: a.Status,
        Arn: a.Arn,
      }));
      const plain = await cli([]);
      expect(plain.code, plain.stderr).toBe(0);
      const shape = (out: string) =>
        (JSON.parse(out) as { Accounts: Record<string, unknown>[] }).Accounts.map((a) => ({
          Id: a.Id,
          Name: a.Name,
          Email: a.Email,
          Status: a.Status,
          Arn: a.Arn,
        }));
      expect(shape(plain.stdout)).toEqual(expected);
      sb.admin.setOrganizations({ emptyPages: true });
      sb.admin.reset();
      try {
        const paged = await cli(['--page-size', '1']);
        expect(paged.code, paged.stderr).toBe(0);
        expect(shape(paged.stdout)).toEqual(expected);
        // One empty page, then one page per account.
        expect(sb.admin.calls({ service: 'organizations', operation: 'ListAccounts' })).toBe(1 + sdk.length);
      } finally {
        sb.admin.setOrganizations({ emptyPages: false });
      }
    },
    REAL_CLIENT_TIMEOUT_MS,
  );
});

const botoScript = `
import functools, json, sys, time
import boto3, botocore.config, botocore.session
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials, Credentials

endpoint, role_arn, key, secret = sys.argv[1:5]
base = botocore.session.get_session()
fetcher = AssumeRoleCredentialFetcher(
    # botocore itself refuses DurationSeconds < 900; the sandbox's allowShortSessions accepts it.
    client_creator=functools.partial(base.create_client, endpoint_url=endpoint, region_name='us-east-1',
                                     config=botocore.config.Config(parameter_validation=False)),
    source_credentials=Credentials(key, secret),
    role_arn=role_arn,
    extra_args={'RoleSessionName': 'boto', 'DurationSeconds': 2},
)
refreshing = DeferredRefreshableCredentials(method='assume-role', refresh_using=fetcher.fetch_credentials)
bsession = botocore.session.get_session()
bsession._credentials = refreshing
session = boto3.Session(botocore_session=bsession)
ec2 = session.client('ec2', endpoint_url=endpoint, region_name='us-east-1')
s3 = session.client('s3', endpoint_url=endpoint, region_name='us-east-1', config=botocore.config.Config(s3={'addressing_style': 'path'}))
result = {'calls': 0, 'errors': [], 'keys': set(), 'instances': 0, 'buckets': 0}
first_frozen = None
start = time.time()
while time.time() - start < 7:
    try:
        r = ec2.describe_instances()
        result['instances'] = sum(len(x['Instances']) for x in r['Reservations'])
        result['buckets'] = len(s3.list_buckets()['Buckets'])
        frozen = refreshing.get_frozen_credentials()
        result['keys'].add(frozen.access_key)
        if first_frozen is None:
            first_frozen = frozen
        result['calls'] += 1
    except Exception as e:
        result['errors'].append(repr(e))
    time.sleep(0.5)
# The very first session, without refresh, must now be rejected.
try:
    stale = boto3.client('sts', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=first_frozen.access_key,
                         aws_secret_access_key=first_frozen.secret_key, aws_session_token=first_frozen.token)
    if first_frozen is None:
        raise RuntimeError('no call succeeded')
    stale.get_caller_identity()
    result['stale'] = 'accepted'
except Exception as e:
    result['stale'] = e.response['Error']['Code'] if hasattr(e, 'response') else str(e)
result['keys'] = len(result['keys'])
print(json.dumps(result))
`;

describe('boto3 / botocore', () => {
  it.skipIf(!onCi && !hasBoto)(
    'AssumeRoleCredentialFetcher + DeferredRefreshableCredentials keeps working across several expiries',
    async () => {
      expect(hasBoto, 'python3-boto3 must be installed on CI').toBe(true);
      const out = await run(
        pythonBin ?? 'python3',
        [
          '-c',
          botoScript,
          sb.endpoint,
          readerArn(sb, 'staging'),
          sb.credentials.accessKeyId,
          sb.credentials.secretAccessKey,
        ],
        {},
      );
      expect(out.code, out.stderr).toBe(0);
      const result = JSON.parse(out.stdout) as {
        calls: number;
        errors: string[];
        keys: number;
        instances: number;
        buckets: number;
        stale: string;
      };
      expect(result.errors.slice(0, 2)).toEqual([]);
      expect(out.stderr).toBe('');
      expect(result.calls).toBeGreaterThanOrEqual(8);
      // 2-second sessions over 7 seconds: at least three different sessions were used.
      expect(result.keys).toBeGreaterThanOrEqual(3);
      expect(result.instances).toBe(
        account(sb, 'staging').instances.filter((i) => i.region === 'us-east-1').length,
      );
      expect(result.buckets).toBe(account(sb, 'staging').buckets.length);
      expect(result.stale).toBe('ExpiredToken');
    },
    REAL_CLIENT_TIMEOUT_MS,
  );
});
