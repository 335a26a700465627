/**
 * Org scale (issue 13): "all instances in all accounts" over an organization of 1,000 and
 * 5,000 accounts x 17 regions, discovered from AWS Organizations, with the sandbox's AWS-like
 * throttling on (STS, EC2 and Organizations token buckets at AWS's defaults) and 20 ms per call.
 * Cold (no session) and warm, against the floors the run cannot beat: the STS bucket's refill
 * for the AssumeRole calls, and CPU (a bare SDK client's CPU per DescribeInstances, measured in
 * the same run, times the calls, over the cores).
 * Run alone: node --expose-gc --import tsx bench/org-scale.ts [accounts...]
 */
import { cpus } from 'node:os';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createGateway, type Gateway, parseConfig, silentLog } from '@rolegraph/gateway';
import {
  DEFAULT_THROTTLING,
  MANAGEMENT_ACCOUNT_ID,
  ORG_READER_ROLE_NAME,
  READER_ROLE_NAME,
} from '@rolegraph/sandbox';
import { AWS_LATENCY_MS, expectData, gql, isMain } from './lib/gateway-harness.js';
import { cpuMicrosSince } from './lib/measure.js';
import type { BenchSection } from './lib/report.js';
import { type SandboxProcess, startSandboxProcess } from './lib/sandbox-process.js';
import { credentialsOf } from './lib/sts.js';

/** 17 regions, as in the issue (AWS's default-enabled commercial regions). */
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
const INSTANCES_PER_REGION = 2;
const SIZES = [1000, 5000];
const QUERY = '{ accounts { alias instances(first: 1000) { nodes { id } } } }';
const BARE_CALLS = 3000;

/** CPU µs of this process per DescribeInstances sent by one bare SDK client, 32 in flight. */
async function bareCpuPerCall(sb: SandboxProcess, accountId: string): Promise<number> {
  const sts = new STSClient({ endpoint: sb.endpoint, region: 'us-east-1', credentials: sb.credentials });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/${READER_ROLE_NAME}`,
      RoleSessionName: 'bare',
    }),
  );
  sts.destroy();
  const ec2 = new EC2Client({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: credentialsOf(out),
    maxAttempts: 1,
  });
  const send = () => ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
  for (let i = 0; i < 200; i++) await send(); // JIT warm-up
  let next = 0;
  const started = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next++ < BARE_CALLS) await send();
    }),
  );
  const micros = cpuMicrosSince(started);
  ec2.destroy();
  return micros / BARE_CALLS;
}

/** Samples this process's RSS every 50 ms; `stop()` gives the peak in bytes. */
function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function startOrgGateway(sb: SandboxProcess, accounts: number): Promise<Gateway> {
  const config = await parseConfig(
    {
      organization: {
        roleArn: `arn:aws:iam::${MANAGEMENT_ACCOUNT_ID}:role/${ORG_READER_ROLE_NAME}`,
        memberRoleArn: `arn:aws:iam::{accountId}:role/${READER_ROLE_NAME}`,
        regions: REGIONS_17,
        rediscoverSeconds: 0,
        // The management account holds the listing role, not the member role.
        skipAccounts: [MANAGEMENT_ACCOUNT_ID],
      },
      // Sandbox mode: the client-side buckets mirror the sandbox's (AWS-like) ones.
      aws: { endpoint: sb.endpoint, sandbox: {} },
      // The query really needs N x 17 DescribeInstances: the per-request limits are raised for
      // it (the defaults refuse it before any call, as they should for a shared gateway).
      limits: { maxAwsCalls: accounts * REGIONS_17.length * 2, maxCost: 1_000_000_000 },
      server: { queryTimeoutMs: 1_800_000 },
      // Every run asks AWS: the answer cache (on by default) would make the warm run 0 calls.
      cache: { enabled: false },
    },
    { file: '<bench org-scale>' },
  );
  const identity = { ...sb.credentials };
  return createGateway({ config, sourceCredentials: async () => identity, log: silentLog });
}

interface Run {
  ms: number;
  cpuMicros: number;
  /** The sandbox process's CPU over the same query. */
  sandboxCpuMicros: number;
  assumeRole: number;
  describe: number;
  throttled: number;
  instances: number;
}

async function timedQuery(gateway: Gateway, sb: SandboxProcess, what: string): Promise<Run> {
  await sb.reset();
  const sandboxCpu = await sb.cpuMicros();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const data = expectData(await gql(gateway, QUERY), what);
  const ms = performance.now() - started;
  const cpuMicros = cpuMicrosSince(cpu);
  const sandboxCpuMicros = (await sb.cpuMicros()) - sandboxCpu;
  const accounts = data.accounts as Array<{ instances: { nodes: unknown[] } }>;
  return {
    ms,
    cpuMicros,
    sandboxCpuMicros,
    assumeRole: await sb.calls({ service: 'sts', operation: 'AssumeRole' }),
    describe: await sb.calls({ service: 'ec2', operation: 'DescribeInstances' }),
    throttled: await sb.calls({ outcome: 'throttled' }),
    instances: accounts.reduce((n, a) => n + a.instances.nodes.length, 0),
  };
}

export async function benchOrgScale(sizes = SIZES): Promise<BenchSection[]> {
  const cores = cpus().length;
  const sts = DEFAULT_THROTTLING.sts;
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  for (const accounts of sizes) {
    const sb = await startSandboxProcess({
      fixture: {
        accounts,
        regions: REGIONS_17,
        instancesPerRegion: INSTANCES_PER_REGION,
        bucketsPerAccount: 0,
        objectsPerBucket: 0,
        seed: 13,
        organization: { suspendedFraction: 0 },
      },
      latency: {
        sts: { fixedMs: AWS_LATENCY_MS },
        ec2: { fixedMs: AWS_LATENCY_MS },
        organizations: { fixedMs: AWS_LATENCY_MS },
      },
      buildFixture: false,
    });
    try {
      // The bare client's CPU, measured before throttling is on (one account's bucket would
      // otherwise cap the loop at 20 calls per second).
      const bareMicros = await bareCpuPerCall(sb, String(100000000001).padStart(12, '0'));
      await sb.setThrottling(true);
      const rss = sampleRss();
      const startedAt = performance.now();
      const gateway = await startOrgGateway(sb, accounts);
      try {
        // createGateway starts the first discovery; wait for it (a failed one is retried).
        while (gateway.accounts.status().state !== 'ready') {
          if (performance.now() - startedAt > 600_000) throw new Error('discovery did not finish in 10 min');
          await new Promise((r) => setTimeout(r, 100));
        }
        const discovered = { accounts: gateway.accounts.current().accounts.length };
        const discoveryMs = performance.now() - startedAt;
        const organizationsCalls = await sb.calls({ service: 'organizations' });
        const cold = await timedQuery(gateway, sb, `cold, ${accounts} accounts`);
        const warm = await timedQuery(gateway, sb, `warm, ${accounts} accounts`);
        const peak = rss.stop();
        const expected = accounts * REGIONS_17.length * INSTANCES_PER_REGION;
        for (const [name, run] of [
          ['cold', cold],
          ['warm', warm],
        ] as const) {
          if (run.instances !== expected)
            throw new Error(`${name}: ${run.instances} instances, expected ${expected}`);
          const minimum = accounts * REGIONS_17.length;
          const stsFloorMs =
            name === 'cold' ? (Math.max(0, accounts - sts.burst) / sts.refillPerSecond) * 1000 : 0;
          const calls = run.describe + run.assumeRole;
          const cpuFloorMs = (bareMicros * run.describe) / cores / 1000;
          const floor = Math.max(stsFloorMs, cpuFloorMs);
          rows.push([
            accounts,
            name,
            `${run.describe} / ${minimum}${run.describe === minimum ? '' : ' MISSED'}`,
            run.assumeRole,
            run.throttled,
            (run.ms / 1000).toFixed(1),
            (stsFloorMs / 1000).toFixed(1),
            (cpuFloorMs / 1000).toFixed(1),
            `${(run.ms / floor).toFixed(2)}${run.ms / floor <= 1.5 ? '' : ' MISSED'}`,
            `${Math.round(peak / 2 ** 20)}`,
            `${(run.cpuMicros / calls / bareMicros).toFixed(2)}`,
            (run.cpuMicros / 1000 / run.ms).toFixed(2),
            (run.sandboxCpuMicros / 1e6).toFixed(1),
          ]);
        }
        notes.push(
          `${accounts} accounts: discovery of ${discovered.accounts} accounts took ${(discoveryMs / 1000).toFixed(1)} s (${organizationsCalls} Organizations calls, before the cold query); bare SDK CPU ${bareMicros.toFixed(0)} µs per DescribeInstances; gateway CPU per call counts AssumeRole and DescribeInstances and includes GraphQL execution and the 10 MB+ response.`,
        );
      } finally {
        await gateway.close();
      }
    } finally {
      await sb.close();
    }
  }
  return [
    {
      title: 'Org scale: all instances in all accounts of an organization, throttling on',
      description: `generateFixture with an organization (nested OUs) of N accounts x ${REGIONS_17.length} regions x ${INSTANCES_PER_REGION} instances, the sandbox in its own process with throttling at AWS's defaults (STS ${sts.burst} burst / ${sts.refillPerSecond} per s per caller account; EC2 per account and region) and ${AWS_LATENCY_MS} ms per call. The gateway discovers the accounts (organization.roleArn = the management account's ${ORG_READER_ROLE_NAME}) and runs \`${QUERY}\` in-process with its default settings (limits.maxAwsCalls and maxCost raised for this one query). Cold: the first query (every AssumeRole); warm: again.`,
      columns: [
        'accounts',
        'run',
        'DescribeInstances / minimum',
        'AssumeRole',
        'throttled',
        'wall s',
        'STS floor s',
        'CPU floor s',
        'wall / floor (≤ 1.5)',
        'peak RSS MiB (≤ 2048)',
        'CPU per call / bare SDK (≤ 1.2)',
        'gateway cores busy',
        'sandbox CPU s',
      ],
      rows,
      notes: [
        ...notes,
        `"gateway cores busy": the gateway process's CPU time over the wall time (1.00 = one core all the time; its JavaScript, the SDK's included, runs on one thread). "sandbox CPU s": the sandbox process's CPU over the same query, on the same ${cores} cores.`,
      ],
    },
  ];
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  for (const s of await benchOrgScale(sizes.length > 0 ? sizes : SIZES))
    process.stdout.write(`\n${renderSection(s)}`);
}
