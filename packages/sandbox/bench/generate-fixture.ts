/**
 * `pnpm --filter @rolegraph/sandbox bench`: what an org-scale fixture costs. For 1,000 and 5,000
 * accounts x 17 regions x 2 instances per region in a nested OU tree (depth 3, 4 OUs per level):
 * generateFixture's time and retained heap, the sandbox's start time with it, its RSS, and one full
 * ListAccounts listing through the SDK (throttling off). Each size runs in a child process of its
 * own so heap and RSS are that size's alone. Prints a table; never gates anything.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Account, OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { generateFixture, ORG_READER_ROLE_NAME, startSandbox } from '../src/index.js';

export const REGIONS_17 = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
];

interface Row {
  accounts: number;
  instances: number;
  generateMs: number;
  heapMiB: number;
  startMs: number;
  rssMiB: number;
  listMs: number;
  listCalls: number;
  listed: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

async function measure(accounts: number): Promise<Row> {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let started = performance.now();
  const fixture = generateFixture({
    accounts,
    regions: REGIONS_17,
    instancesPerRegion: 2,
    bucketsPerAccount: 1,
    objectsPerBucket: 2,
    organization: { depth: 3, unitsPerLevel: 4 },
  });
  const generateMs = performance.now() - started;
  gc?.();
  const heapMiB = mib(process.memoryUsage().heapUsed - heapBefore);
  started = performance.now();
  const sb = await startSandbox({ fixture });
  const startMs = performance.now() - started;
  try {
    const instances = sb.fixture.accounts.reduce((n, a) => n + a.instances.length, 0);
    const sts = new STSClient({ endpoint: sb.endpoint, region: 'us-east-1', credentials: sb.credentials });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::000000000000:role/${ORG_READER_ROLE_NAME}`,
        RoleSessionName: 'bench',
      }),
    );
    const c = assumed.Credentials;
    const client = new OrganizationsClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: {
        accessKeyId: c?.AccessKeyId ?? '',
        secretAccessKey: c?.SecretAccessKey ?? '',
        sessionToken: c?.SessionToken ?? '',
      },
    });
    sb.admin.reset();
    started = performance.now();
    const listed: Account[] = [];
    for await (const page of paginateListAccounts({ client }, {})) listed.push(...(page.Accounts ?? []));
    const listMs = performance.now() - started;
    return {
      accounts,
      instances,
      generateMs: Math.round(generateMs),
      heapMiB,
      startMs: Math.round(startMs),
      rssMiB: mib(process.memoryUsage().rss),
      listMs: Math.round(listMs),
      listCalls: sb.admin.calls({ service: 'organizations' }),
      listed: listed.length,
    };
  } finally {
    await sb.close();
  }
}

const child = process.argv[2];
if (child !== undefined) {
  process.stdout.write(JSON.stringify(await measure(Number(child))));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows: Row[] = [];
  for (const accounts of [1000, 5000]) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, String(accounts)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    rows.push(JSON.parse(out.slice(out.lastIndexOf('{'))) as Row);
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  console.log(
    `generateFixture at org scale (17 regions, 2 instances per region, OUs 3 deep x 4), ${machine}\n`,
  );
  console.log(
    '| accounts | instances | generate ms | retained heap MiB | sandbox start ms | RSS MiB | ListAccounts, all pages ms (calls) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.accounts} | ${r.instances} | ${r.generateMs} | ${r.heapMiB} | ${r.startMs} | ${r.rssMiB} | ${r.listMs} (${r.listCalls}, ${r.listed} accounts) |`,
    );
  }
}
