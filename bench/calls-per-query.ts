/**
 * Case 2, AWS calls per query: for 12 realistic queries (the last three repeat things inside one
 * request: an account by alias and id, repeated names, a page-by-page walk), the fewest AWS calls
 * that can answer them (derived from the fixture below), what rolegraph makes with its answer
 * cache off (cold: empty session cache, so AssumeRole included; warm: the same query again) and
 * on (first run, then again within the TTL), and what a naive resolver set makes: the
 * same SDL and query text, resolvers calling the SDK directly, no DataLoader, and a fresh
 * AssumeRole (new STSClient + AssumeRoleCommand) in every resolver call that needs credentials.
 * Counts come from the sandbox's exact counters.
 * Run alone: node --import tsx bench/calls-per-query.ts
 */
import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Filter,
  type Instance as SdkInstance,
} from '@aws-sdk/client-ec2';
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type AccountConfig, demoAccounts, typeDefs } from '@rolegraph/gateway';
import { demoFixture, type FixtureAccount, type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { createSchema, createYoga } from 'graphql-yoga';
import {
  AWS_LATENCY_MS,
  expectData,
  type GraphQLBody,
  gql,
  isMain,
  latencyOf,
  startBenchGateway,
} from './lib/gateway-harness.js';
import { type BenchSection, ratio } from './lib/report.js';
import { credentialsOf } from './lib/sts.js';

type Counts = Record<string, number>;

interface Minimum {
  /** Distinct accounts whose role must be assumed (cold run only). */
  assumeRole: number;
  /** Service calls by operation, per run without the answer cache (cold and warm alike). */
  calls: Counts;
}

interface QueryCase {
  name: string;
  query: string;
  /** How the minimum is derived, in words. */
  formula: string;
  minimum: Minimum;
  /**
   * A walk: `query` takes `$after`, and is sent again with each page's `endCursor` until the
   * last page (at most `walk` pages). The counts are those of the whole walk.
   */
  walk?: number;
  /** Why the naive answer is not compared (it differs by design), if so. */
  naiveDiffers?: string;
}

const sum = (counts: Counts) => Object.values(counts).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// The fixture, and the minimum derived from it.

interface Org {
  account(alias: string): FixtureAccount;
}

function orgOf(sb: Sandbox): Org {
  return {
    account(alias) {
      const found = sb.fixture.accounts.find((a) => a.alias === alias);
      if (!found) throw new Error(`fixture has no account ${alias}`);
      return found;
    },
  };
}

const instancesIn = (a: FixtureAccount, region: string) => a.instances.filter((i) => i.region === region);

/** 1 DescribeSecurityGroups for a region if any of these instances has a group (one batch per region). */
const groupCalls = (instances: FixtureAccount['instances']) =>
  instances.some((i) => i.securityGroupIds.length > 0) ? 1 : 0;

/** 1 DescribeVolumes for a region if any of these instances has an attached volume. */
function volumeCalls(a: FixtureAccount, instances: FixtureAccount['instances']): number {
  const ids = new Set(instances.map((i) => i.id));
  return a.volumes.some((v) => v.attachedTo && ids.has(v.attachedTo.instanceId)) ? 1 : 0;
}

function add(counts: Counts, operation: string, n: number): void {
  if (n > 0) counts[operation] = (counts[operation] ?? 0) + n;
}

function buildCases(org: Org, members: string[]): QueryCase[] {
  const prod = org.account('prod');
  const staging = org.account('staging');
  const audit = org.account('audit');
  const [r0, r1] = prod.regions as [string, string];
  const cases: QueryCase[] = [];

  // 1. One account, all its instances.
  {
    const calls: Counts = {};
    // One page per region: first 100 ≥ instances per region.
    add(calls, 'DescribeInstances', prod.regions.length);
    cases.push({
      name: '1 one account: instances',
      query: `{ account(account: "prod") { alias regions
        instances(first: 100) { nodes { id type state name launchTime privateIp } } } }`,
      formula: 'AssumeRole 1 + DescribeInstances 1 per region of the account',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 2. Every account: instances and buckets.
  {
    const calls: Counts = {};
    for (const alias of members) {
      const a = org.account(alias);
      add(calls, 'DescribeInstances', a.regions.length);
      add(calls, 'ListBuckets', 1); // one page: first 100 ≥ buckets per account
    }
    cases.push({
      name: '2 all accounts: instances + buckets',
      query: `{ accounts { alias
        instances(first: 100) { nodes { id region state } }
        buckets(first: 100) { nodes { name creationDate } } } }`,
      formula: 'per account: AssumeRole 1 + DescribeInstances 1 per region + ListBuckets 1',
      minimum: { assumeRole: members.length, calls },
    });
  }

  // 3. Instances by id (a filter over ids from both regions).
  const byId = [...instancesIn(prod, r0).slice(0, 3), ...instancesIn(prod, r1).slice(0, 2)].map((i) => i.id);
  {
    const calls: Counts = {};
    add(calls, 'DescribeInstances', prod.regions.length);
    cases.push({
      name: '3 instances by id (filter, 5 ids)',
      query: `{ instances(account: "prod", filter: { ids: ${JSON.stringify(byId)} }, first: 100) {
        nodes { id region type state } } }`,
      formula:
        'AssumeRole 1 + DescribeInstances 1 per configured region (the caller does not say which region holds an id)',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 4. Instances with security groups and volumes.
  {
    const calls: Counts = {};
    for (const region of staging.regions) {
      const here = instancesIn(staging, region);
      add(calls, 'DescribeInstances', 1);
      add(calls, 'DescribeSecurityGroups', groupCalls(here));
      add(calls, 'DescribeVolumes', volumeCalls(staging, here));
    }
    cases.push({
      name: '4 instances + groups + volumes',
      query: `{ account(account: "staging") { instances(first: 100) { nodes { id
        securityGroups { id name inboundRuleCount } volumes { id sizeGiB encrypted } } } } }`,
      formula:
        'AssumeRole 1 + per region: DescribeInstances 1 + DescribeSecurityGroups 1 (if any instance has a group) + DescribeVolumes 1 (if any has a volume)',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 5. Buckets with region, tags and encryption.
  {
    const calls: Counts = {};
    add(calls, 'ListBuckets', 1);
    add(calls, 'GetBucketTagging', audit.buckets.length);
    add(calls, 'GetBucketEncryption', audit.buckets.length);
    cases.push({
      name: '5 buckets + region, tags, encryption',
      query: `{ account(account: "audit") { buckets(first: 100) { nodes { name region
        tags { key value } encryption { algorithm kmsKeyId bucketKeyEnabled } } } } }`,
      formula:
        'AssumeRole 1 + ListBuckets 1 (it carries BucketRegion: no GetBucketLocation) + GetBucketTagging and GetBucketEncryption 1 per bucket (S3 has no batch API)',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 6. Mixed: one account's instances in one region with volumes plus its buckets' access settings,
  //    another account's running instances in one region, a third account's bucket by name.
  const auditBucket = audit.buckets[0]?.name ?? 'missing';
  {
    const calls: Counts = {};
    const prodHere = instancesIn(prod, r0);
    add(calls, 'DescribeInstances', 1);
    add(calls, 'DescribeVolumes', volumeCalls(prod, prodHere));
    add(calls, 'ListBuckets', 1);
    add(calls, 'GetPublicAccessBlock', prod.buckets.length);
    add(calls, 'GetBucketPolicyStatus', prod.buckets.length);
    add(calls, 'DescribeInstances', 1); // staging, one region, state filter
    add(calls, 'ListBuckets', 1); // audit: find the bucket (its region comes with it)
    add(calls, 'GetBucketTagging', 1);
    cases.push({
      name: '6 mixed (3 accounts, EC2 + S3)',
      query: `{
        prod: account(account: "prod") { alias
          instances(region: "${r0}", first: 100) { nodes { id volumes { id sizeGiB } } }
          buckets(first: 100) { nodes { name publicAccessBlock { blockPublicAcls } policyStatus { isPublic } } } }
        running: instances(account: "staging", region: "${r1}", filter: { states: [RUNNING] }, first: 100) {
          nodes { id state } }
        bucket(account: "audit", name: "${auditBucket}") { name region tags { key value } } }`,
      formula:
        'AssumeRole 3 + prod: DescribeInstances 1 + DescribeVolumes 1 + ListBuckets 1 + GetPublicAccessBlock and GetBucketPolicyStatus 1 per bucket; staging: DescribeInstances 1; audit: ListBuckets 1 (prefix) + GetBucketTagging 1',
      minimum: { assumeRole: 3, calls },
    });
  }

  // 7. Aliases: the same root fields several times; the loaders should merge them.
  const [p0, p1] = instancesIn(prod, r0).map((i) => i.id);
  const p2 = instancesIn(prod, r1)[0]?.id;
  const s0 = instancesIn(staging, r0)[0]?.id;
  {
    const calls: Counts = {};
    add(calls, 'DescribeInstances', 3); // (prod, r0) with 2 ids, (prod, r1), (staging, r0)
    cases.push({
      name: '7 aliases (4 instances, 2 accounts)',
      query: `{
        a: instance(account: "prod", region: "${r0}", id: "${p0}") { id type }
        b: instance(account: "prod", region: "${r0}", id: "${p1}") { id type }
        c: instance(account: "prod", region: "${r1}", id: "${p2}") { id type }
        d: instance(account: "staging", region: "${r0}", id: "${s0}") { id type }
        e: account(account: "prod") { alias }
        f: account(account: "prod") { regions } }`,
      formula:
        'AssumeRole 1 per distinct account (2) + DescribeInstances 1 per distinct (account, region) (3)',
      minimum: { assumeRole: 2, calls },
    });
  }

  // 8. One known instance without its region: every configured region is asked.
  {
    const calls: Counts = {};
    add(calls, 'DescribeInstances', prod.regions.length);
    cases.push({
      name: '8 one instance, region omitted',
      query: `{ instance(account: "prod", id: "${p2}") { id region type } }`,
      formula:
        'AssumeRole 1 + DescribeInstances 1 per configured region (the regions without it answer "not found" in that one call)',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 9. Unknown ids: well-formed but absent, and malformed (which cannot exist: no call needed).
  {
    const calls: Counts = {};
    add(calls, 'DescribeInstances', prod.regions.length); // prod: unknown id, every region
    add(calls, 'DescribeInstances', staging.regions.length); // staging: filter over an unknown id
    add(calls, 'ListBuckets', 1); // prod: no such bucket
    cases.push({
      name: '9 unknown ids',
      query: `{
        a: instance(account: "prod", id: "i-0000000000000dead") { id }
        b: instances(account: "staging", filter: { ids: ["i-00000000000000bad"] }, first: 10) { nodes { id } }
        c: bucket(account: "prod", name: "no-such-bucket-rolegraph") { name }
        d: instance(account: "audit", region: "${r0}", id: "not-an-instance-id") { id } }`,
      formula:
        'AssumeRole 2 (prod, staging; a malformed id needs no call, so no credentials) + DescribeInstances 1 per region for each well-formed id + ListBuckets 1',
      minimum: { assumeRole: 2, calls },
    });
  }
  // 10. One account by alias and by id in the same query: one set of loaders, so one set of calls.
  const prodFields =
    'alias instances(first: 100) { nodes { id } } buckets(first: 100) { nodes { name tags { key value } } }';
  {
    const calls: Counts = {};
    add(calls, 'DescribeInstances', prod.regions.length);
    add(calls, 'ListBuckets', 1);
    add(calls, 'GetBucketTagging', prod.buckets.length);
    cases.push({
      name: '10 one account by alias and by id',
      query: `{ a: account(account: "prod") { ${prodFields} }
        b: account(account: "${prod.id}") { ${prodFields} }
        c: instances(account: "${prod.id}", first: 100) { nodes { id } } }`,
      formula:
        'as for the account once: AssumeRole 1 + DescribeInstances 1 per region + ListBuckets 1 + GetBucketTagging 1 per bucket',
      minimum: { assumeRole: 1, calls },
    });
  }

  // 11. Repeated names in accounts(aliases:): each account once.
  {
    const calls: Counts = {};
    for (const a of [prod, staging]) {
      add(calls, 'DescribeInstances', a.regions.length);
      add(calls, 'ListBuckets', 1);
      add(calls, 'GetBucketTagging', a.buckets.length);
    }
    cases.push({
      name: '11 accounts(aliases:) with repeats',
      query: `{ accounts(aliases: ["prod", "prod", "${prod.id}", "staging", "prod"]) { ${prodFields} } }`,
      formula: 'as for prod and staging once each (an entry per account, at its first name)',
      minimum: { assumeRole: 2, calls },
      naiveDiffers: 'naive answers one entry per name',
    });
  }

  // 12. Walking one account's instances one item at a time over its regions.
  {
    const perRegion = prod.regions.map((r) => instancesIn(prod, r).length);
    const items = perRegion.reduce((a, b) => a + b, 0);
    const laterNonEmpty = perRegion.filter((n) => n > 0).length - 1;
    const calls: Counts = {};
    add(calls, 'DescribeInstances', items + laterNonEmpty);
    cases.push({
      name: '12 walk instances 1 at a time (2 regions)',
      query: `query ($after: String) { instances(account: "prod", first: 1, after: $after) {
        nodes { id region } pageInfo { endCursor hasNextPage } } }`,
      formula: `AssumeRole 1 + DescribeInstances 1 per page (${items} items) + 1 per later non-empty region, read by the page that shows the last item of the region before it (${laterNonEmpty})`,
      minimum: { assumeRole: 1, calls },
      walk: items + 1,
      naiveDiffers: 'naive has no cursors',
    });
  }
  return cases;
}

/** The case's answer: one request, or the nodes of every page of a walk. */
async function runCase(
  server: Parameters<typeof gql>[0],
  c: QueryCase,
  what: string,
): Promise<Record<string, unknown>> {
  if (!c.walk) return expectData(await gql(server, c.query), what);
  const nodes: unknown[] = [];
  let after: string | null = null;
  for (let page = 0; page < c.walk; page++) {
    const data = expectData(await gql(server, c.query, { after }), `${what} page ${page + 1}`);
    const connection = data.instances as {
      nodes: unknown[];
      pageInfo: { endCursor: string | null; hasNextPage: boolean };
    };
    nodes.push(...connection.nodes);
    if (!connection.pageInfo.hasNextPage) return { nodes, pages: page + 1 };
    after = connection.pageInfo.endCursor;
  }
  throw new Error(`${what}: the walk did not end within ${c.walk} pages`);
}

// ---------------------------------------------------------------------------------------------
// The naive baseline: same SDL, resolvers straight on the SDK.

interface NaiveDeps {
  endpoint: string;
  central: { accessKeyId: string; secretAccessKey: string };
  accounts: AccountConfig[];
}

interface NaiveInstance {
  id: string;
  region: string;
  accountId: string;
  account: string;
  type: string;
  state: string;
  launchTime: string | null;
  name: string | null;
  tags: Array<{ key: string; value: string }>;
  privateIp: string | null;
  securityGroupIds: string[];
  volumeIds: string[];
  owner: AccountConfig;
}

interface NaiveBucket {
  name: string;
  accountId: string;
  account: string;
  creationDate: string | null;
  region: string | null;
  owner: AccountConfig;
}

const connection = <T>(nodes: T[]) => ({
  nodes,
  edges: nodes.map((node, i) => ({ cursor: String(i), node })),
  pageInfo: { endCursor: null, hasNextPage: false },
});

const errorName = (error: unknown) => (error as { name?: string }).name ?? '';

function createNaiveYoga(deps: NaiveDeps) {
  const client = { endpoint: deps.endpoint, maxAttempts: 1 };
  const assume = async (account: AccountConfig) => {
    const sts = new STSClient({ ...client, region: 'us-east-1', credentials: deps.central });
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'naive' }));
    sts.destroy();
    return credentialsOf(out);
  };
  type Assumed = Awaited<ReturnType<typeof assume>>;
  const ec2 = (credentials: Assumed, region: string) => new EC2Client({ ...client, region, credentials });
  const s3 = (credentials: Assumed, region: string) =>
    new S3Client({ ...client, region, forcePathStyle: true, credentials });

  const find = (name: string) => {
    const found = deps.accounts.find((a) => a.alias === name || a.accountId === name);
    if (!found) throw new Error(`no account ${name}`);
    return found;
  };
  const toInstance = (raw: SdkInstance, owner: AccountConfig, region: string): NaiveInstance => ({
    id: raw.InstanceId ?? '',
    region,
    accountId: owner.accountId,
    account: owner.alias,
    type: raw.InstanceType ?? '',
    state: (raw.State?.Name ?? 'pending').toUpperCase().replace('-', '_'),
    launchTime: raw.LaunchTime?.toISOString() ?? null,
    name: raw.Tags?.find((t) => t.Key === 'Name')?.Value ?? null,
    tags: (raw.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
    privateIp: raw.PrivateIpAddress ?? null,
    securityGroupIds: (raw.SecurityGroups ?? []).map((g) => g.GroupId ?? ''),
    volumeIds: (raw.BlockDeviceMappings ?? []).map((m) => m.Ebs?.VolumeId ?? ''),
    owner,
  });

  interface InstancesArgs {
    region?: string | null;
    first?: number | null;
    filter?: { ids?: string[] | null; states?: string[] | null } | null;
  }
  const listInstances = async (owner: AccountConfig, args: InstancesArgs) => {
    const regions = args.region ? [args.region] : owner.regions;
    const filters: Filter[] = [];
    if (args.filter?.ids) filters.push({ Name: 'instance-id', Values: args.filter.ids });
    if (args.filter?.states)
      filters.push({
        Name: 'instance-state-name',
        Values: args.filter.states.map((s) => s.toLowerCase().replace('_', '-')),
      });
    const credentials = await assume(owner);
    const nodes: NaiveInstance[] = [];
    for (const region of regions) {
      const out = await ec2(credentials, region).send(
        new DescribeInstancesCommand({
          ...(filters.length ? { Filters: filters } : {}),
          MaxResults: Math.min(1000, Math.max(5, args.first ?? 50)),
        }),
      );
      for (const r of out.Reservations ?? [])
        for (const raw of r.Instances ?? []) nodes.push(toInstance(raw, owner, region));
    }
    return connection(nodes.slice(0, args.first ?? 50));
  };
  const findInstance = async (owner: AccountConfig, args: { region?: string | null; id: string }) => {
    const credentials = await assume(owner);
    for (const region of args.region ? [args.region] : owner.regions) {
      try {
        const out = await ec2(credentials, region).send(
          new DescribeInstancesCommand({ InstanceIds: [args.id] }),
        );
        const raw = out.Reservations?.[0]?.Instances?.[0];
        if (raw) return toInstance(raw, owner, region);
      } catch (error) {
        if (!errorName(error).startsWith('InvalidInstanceID')) throw error;
      }
    }
    return null;
  };
  const listBuckets = async (owner: AccountConfig): Promise<NaiveBucket[]> => {
    const out = await s3(await assume(owner), owner.regions[0] ?? 'us-east-1').send(
      new ListBucketsCommand({}),
    );
    return (out.Buckets ?? []).map((b) => ({
      name: b.Name ?? '',
      accountId: owner.accountId,
      account: owner.alias,
      creationDate: b.CreationDate?.toISOString() ?? null,
      region: b.BucketRegion ?? null,
      owner,
    }));
  };
  const bucketRegion = async (bucket: NaiveBucket, credentials?: Assumed) => {
    if (bucket.region) return bucket.region;
    const client = s3(credentials ?? (await assume(bucket.owner)), 'us-east-1');
    const out = await client.send(new GetBucketLocationCommand({ Bucket: bucket.name }));
    return out.LocationConstraint || 'us-east-1';
  };
  /** Fresh credentials for this resolver call, then one call in the bucket's region. */
  const bucketCall = async <T>(
    bucket: NaiveBucket,
    notConfigured: string,
    fallback: T,
    call: (client: S3Client) => Promise<T>,
  ): Promise<T> => {
    const credentials = await assume(bucket.owner);
    const client = s3(credentials, await bucketRegion(bucket, credentials));
    try {
      return await call(client);
    } catch (error) {
      if (errorName(error) === notConfigured || (error as { Code?: string }).Code === notConfigured)
        return fallback;
      throw error;
    }
  };

  const accountResolvers = {
    instances: (owner: AccountConfig, args: InstancesArgs) => listInstances(owner, args),
    instance: (owner: AccountConfig, args: { region?: string | null; id: string }) =>
      findInstance(owner, args),
    buckets: async (owner: AccountConfig) => connection(await listBuckets(owner)),
    bucket: async (owner: AccountConfig, args: { name: string }) =>
      (await listBuckets(owner)).find((b) => b.name === args.name) ?? null,
  };
  const resolvers = {
    Query: {
      accounts: (_: unknown, args: { aliases?: string[] | null }) =>
        args.aliases ? args.aliases.map(find) : deps.accounts,
      account: (_: unknown, args: { account: string }) => find(args.account),
      instances: (_: unknown, args: InstancesArgs & { account: string }) =>
        accountResolvers.instances(find(args.account), args),
      instance: (_: unknown, args: { account: string; region?: string | null; id: string }) =>
        accountResolvers.instance(find(args.account), args),
      buckets: (_: unknown, args: { account: string }) => accountResolvers.buckets(find(args.account)),
      bucket: (_: unknown, args: { account: string; name: string }) =>
        accountResolvers.bucket(find(args.account), args),
    },
    Account: {
      alias: (owner: AccountConfig) => owner.alias,
      accountId: (owner: AccountConfig) => owner.accountId,
      regions: (owner: AccountConfig) => owner.regions,
      ...accountResolvers,
    },
    Instance: {
      securityGroups: async (node: NaiveInstance) => {
        if (node.securityGroupIds.length === 0) return [];
        const client = ec2(await assume(node.owner), node.region);
        const out = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: node.securityGroupIds }));
        // In the instance's order, as the gateway answers.
        const order = (id?: string) => node.securityGroupIds.indexOf(id ?? '');
        const groups = [...(out.SecurityGroups ?? [])].sort((a, b) => order(a.GroupId) - order(b.GroupId));
        return groups.map((g) => ({
          id: g.GroupId,
          name: g.GroupName,
          inboundRuleCount: g.IpPermissions?.length ?? 0,
        }));
      },
      volumes: async (node: NaiveInstance) => {
        if (node.volumeIds.length === 0) return [];
        const client = ec2(await assume(node.owner), node.region);
        const out = await client.send(new DescribeVolumesCommand({ VolumeIds: node.volumeIds }));
        const order = (id?: string) => node.volumeIds.indexOf(id ?? '');
        const volumes = [...(out.Volumes ?? [])].sort((a, b) => order(a.VolumeId) - order(b.VolumeId));
        return volumes.map((v) => ({ id: v.VolumeId, sizeGiB: v.Size, encrypted: v.Encrypted }));
      },
    },
    Bucket: {
      region: (bucket: NaiveBucket) => bucketRegion(bucket),
      tags: (bucket: NaiveBucket) =>
        bucketCall(bucket, 'NoSuchTagSet', [] as Array<{ key: string; value: string }>, async (c) => {
          const out = await c.send(new GetBucketTaggingCommand({ Bucket: bucket.name }));
          return (out.TagSet ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
        }),
      encryption: (bucket: NaiveBucket) =>
        bucketCall(bucket, 'ServerSideEncryptionConfigurationNotFoundError', null, async (c) => {
          const out = await c.send(new GetBucketEncryptionCommand({ Bucket: bucket.name }));
          const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0];
          const d = rule?.ApplyServerSideEncryptionByDefault;
          return d?.SSEAlgorithm
            ? {
                algorithm: d.SSEAlgorithm,
                kmsKeyId: d.KMSMasterKeyID ?? null,
                bucketKeyEnabled: rule?.BucketKeyEnabled ?? false,
              }
            : null;
        }),
      publicAccessBlock: (bucket: NaiveBucket) =>
        bucketCall(bucket, 'NoSuchPublicAccessBlockConfiguration', null, async (c) => {
          const out = await c.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
          const p = out.PublicAccessBlockConfiguration;
          return p ? { blockPublicAcls: p.BlockPublicAcls ?? false } : null;
        }),
      policyStatus: (bucket: NaiveBucket) =>
        bucketCall(bucket, 'NoSuchBucketPolicy', null, async (c) => {
          const out = await c.send(new GetBucketPolicyStatusCommand({ Bucket: bucket.name }));
          return out.PolicyStatus ? { isPublic: out.PolicyStatus.IsPublic ?? false } : null;
        }),
    },
  };
  return createYoga({ schema: createSchema({ typeDefs, resolvers }), logging: false, maskedErrors: false });
}

// ---------------------------------------------------------------------------------------------

/** Calls by operation since the last reset; AssumeRole kept apart. */
function measure(sb: Sandbox): { assumeRole: number; calls: Counts } {
  const calls: Counts = {};
  let assumeRole = 0;
  for (const c of sb.admin.counters()) {
    if (c.operation === 'AssumeRole') assumeRole += c.count;
    else add(calls, c.operation, c.count);
  }
  return { assumeRole, calls };
}

/** Same answer: compare with tag lists sorted (the gateway sorts tags by key). */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items.every((v) => typeof v === 'object' && v !== null && 'key' in v)
      ? [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : items;
  }
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

const describeCounts = (m: { assumeRole: number; calls: Counts }) =>
  [
    ...(m.assumeRole ? [`AssumeRole ${m.assumeRole}`] : []),
    ...Object.entries(m.calls)
      .sort()
      .map(([op, n]) => `${op} ${n}`),
  ].join(', ');

export async function benchCallsPerQuery(): Promise<BenchSection[]> {
  const sb = await startSandbox({
    fixture: demoFixture(),
    port: 0,
    host: '127.0.0.1',
    latency: latencyOf(AWS_LATENCY_MS),
  });
  try {
    const accounts = demoAccounts(sb);
    const cases = buildCases(
      orgOf(sb),
      accounts.map((a) => a.alias),
    );
    const naive = createNaiveYoga({ endpoint: sb.endpoint, central: { ...sb.credentials }, accounts });
    const rows: Array<Array<string | number>> = [];
    const notes: string[] = [];
    let allMet = true;
    for (const c of cases) {
      // New gateways per query: their session caches are empty, so the first run is really cold.
      const options = { fixture: sb.fixture, endpoint: sb.endpoint, credentials: sb.credentials };
      const gateway = await startBenchGateway(options);
      const cachedGateway = await startBenchGateway({ ...options, cache: { enabled: true } });
      try {
        sb.admin.reset();
        const cold = await runCase(gateway, c, `rolegraph ${c.name}`);
        const coldCounts = measure(sb);
        sb.admin.reset();
        await runCase(gateway, c, `rolegraph ${c.name} (warm)`);
        const warmCounts = measure(sb);
        sb.admin.reset();
        const cachedFirst = await runCase(cachedGateway, c, `rolegraph cached ${c.name}`);
        const cachedFirstCounts = measure(sb);
        sb.admin.reset();
        await runCase(cachedGateway, c, `rolegraph cached ${c.name} (again)`);
        const cachedAgainCounts = measure(sb);
        sb.admin.reset();
        let naiveTotal: number | string = 'n/a';
        let same = c.naiveDiffers ? `n/a (${c.naiveDiffers})` : '';
        if (!c.walk) {
          const naiveBody: GraphQLBody = await gql(naive, c.query);
          expectData(naiveBody, `naive ${c.name}`);
          const naiveCounts = measure(sb);
          naiveTotal = naiveCounts.assumeRole + sum(naiveCounts.calls);
          if (!c.naiveDiffers) {
            same =
              JSON.stringify(normalize(cold)) === JSON.stringify(normalize(naiveBody.data)) ? 'yes' : 'NO';
          }
        }

        const minCold = c.minimum.assumeRole + sum(c.minimum.calls);
        const minWarm = sum(c.minimum.calls);
        const total = (m: { assumeRole: number; calls: Counts }) => m.assumeRole + sum(m.calls);
        const ourCold = total(coldCounts);
        const ourWarm = total(warmCounts);
        const ourCachedFirst = total(cachedFirstCounts);
        const ourCachedAgain = total(cachedAgainCounts);
        const sameCached = JSON.stringify(normalize(cachedFirst)) === JSON.stringify(normalize(cold));
        const met =
          ourCold === minCold &&
          ourWarm === minWarm &&
          ourCachedFirst <= minCold &&
          ourCachedAgain === 0 &&
          sameCached;
        allMet &&= met;
        rows.push([
          c.name,
          `${minCold} / ${minWarm}`,
          ourCold,
          ourWarm,
          `${ourCachedFirst} / ${ourCachedAgain}`,
          naiveTotal,
          typeof naiveTotal === 'number' ? ratio(naiveTotal, ourCold) : 'n/a',
          same,
          met ? 'met' : 'MISSED',
        ]);
        notes.push(`${c.name}: minimum = ${c.formula} = ${describeCounts(c.minimum)}.`);
        if (ourCachedFirst < minCold) {
          notes.push(
            `${c.name}: with the cache on, the first run made ${describeCounts(cachedFirstCounts)}: later requests of it re-read answers an earlier one stored.`,
          );
        }
        if (!met) {
          notes.push(
            `${c.name} MISSED: rolegraph made ${describeCounts(coldCounts)} cold, ${describeCounts(warmCounts)} warm, ${describeCounts(cachedFirstCounts)} / ${describeCounts(cachedAgainCounts)} cached${sameCached ? '' : ' (the cached answer differs)'}.`,
          );
        }
      } finally {
        await gateway.close();
        await cachedGateway.close();
      }
    }
    return [
      {
        title: 'AWS calls per query: rolegraph against the minimum and a naive resolver set',
        description: `Demo fixture (3 member accounts × 2 regions, 5 instances per region, 5 buckets per account), ${AWS_LATENCY_MS} ms injected latency per AWS call, exact counts from the sandbox's counters (every STS, EC2 and S3 call). Minimum "cold / warm": cold includes one AssumeRole per account the query needs; warm is the same query again (sessions are process-wide); both per run without the AWS-answer cache. Cold and warm: a new gateway with an empty session cache and the answer cache off. "cached: first / again": another new gateway with the answer cache on (the default, 60 s): its first run (at most the cold minimum), then the same query again within the TTL (target 0). Query 12 is a walk: every page requested in turn, counts for the whole walk. Naive: the same SDL and query text on a plain graphql-yoga whose resolvers call the SDK directly, no DataLoader, a new STSClient + AssumeRole in every resolver call that needs credentials (it never caches, so cold = warm). "same answer": the naive and rolegraph responses are equal (tag lists compared as sets).`,
        columns: [
          'query',
          'minimum (cold / warm)',
          'rolegraph (cold)',
          'rolegraph (warm)',
          'rolegraph cached: first / again',
          'naive',
          'naive / rolegraph (cold)',
          'same answer',
          'target: = minimum',
        ],
        rows,
        notes: [
          allMet
            ? 'Target met: rolegraph makes exactly the minimum on every query, cold and warm, and nothing when the same query comes again within the cache TTL.'
            : 'Target MISSED on at least one query: see the notes below for the calls made.',
          ...notes,
        ],
      },
    ];
  } finally {
    await sb.close();
  }
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  for (const s of await benchCallsPerQuery()) process.stdout.write(`\n${renderSection(s)}`);
}
