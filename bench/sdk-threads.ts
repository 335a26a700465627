/**
 * Would moving SDK sends to worker threads pay on this machine? The fan-out and org-scale
 * misses are CPU-bound on one thread (XML parsing and signing in the SDK), so this measures
 * the bare SDK, no gateway: the 400 (account, region) pairs of the fan-out case (200 accounts x
 * 2 regions, 5 instances each, 20 ms per call), one warm EC2 client per pair, every pair's
 * DescribeInstances at once. Sent on the main thread, and by 1, 2 and 3 worker threads that
 * hold the clients while the main thread posts one message per call and receives the output
 * (structured clone), as a gateway with SDK workers would. CPU is the whole process (all
 * threads) and, separately, the sandbox's process; both share the machine's cores.
 * Run alone: node --import tsx bench/sdk-threads.ts
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { demoAccounts } from '@rolegraph/gateway';
import { sequential } from './fan-out.js';
import { AWS_LATENCY_MS, isMain, latencyOf } from './lib/gateway-harness.js';
import { cpuMicrosSince, medianBy } from './lib/measure.js';
import type { BenchSection } from './lib/report.js';
import { type SandboxProcess, startSandboxProcess } from './lib/sandbox-process.js';
import type { PairSetup, WorkerMessage, WorkerReply } from './lib/sdk-worker.js';
import { credentialsOf } from './lib/sts.js';

const ACCOUNTS = 200;
const REGIONS = ['us-east-1', 'eu-west-1'];
const INSTANCES_PER_REGION = 5;
const WORKER_COUNTS = [1, 2, 3];
/** Measured rounds per mode, after one warm-up round; modes alternate round by round. */
const ROUNDS = 5;
const WORKER_URL = new URL('./lib/sdk-worker.ts', import.meta.url).href;

interface Round {
  wallMs: number;
  cpuMs: number;
  sandboxCpuMs: number;
  instances: number;
}

/** Sends one DescribeInstances per pair, all at once, and counts the instances returned. */
interface Sender {
  name: string;
  sendAll(): Promise<number>;
  close(): Promise<void>;
}

type Output = { Reservations?: Array<{ Instances?: unknown[] }> };
const instancesIn = (output: Output) =>
  (output.Reservations ?? []).reduce((n, r) => n + (r.Instances?.length ?? 0), 0);

async function pairsOf(sb: SandboxProcess): Promise<PairSetup[]> {
  const sts = new STSClient({ endpoint: sb.endpoint, region: 'us-east-1', credentials: sb.credentials });
  try {
    const pairs: PairSetup[] = [];
    for (const account of demoAccounts({ fixture: sb.fixture }).slice(0, ACCOUNTS)) {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'threads' }),
      );
      const credentials = credentialsOf(out);
      for (const region of REGIONS) pairs.push({ endpoint: sb.endpoint, region, credentials });
    }
    return pairs;
  } finally {
    sts.destroy();
  }
}

function mainThreadSender(pairs: PairSetup[]): Sender {
  const clients = pairs.map((p) => new EC2Client({ ...p, maxAttempts: 1 }));
  return {
    name: 'main thread',
    async sendAll() {
      const outputs = await Promise.all(
        clients.map((c) => c.send(new DescribeInstancesCommand({ MaxResults: 1000 }))),
      );
      return outputs.reduce((n, o) => n + instancesIn(o), 0);
    },
    async close() {
      for (const c of clients) c.destroy();
    },
  };
}

async function workerSender(pairs: PairSetup[], count: number): Promise<Sender> {
  const workers = Array.from(
    { length: count },
    () =>
      // A worker does not inherit tsx's loader: register it there, then load the TypeScript.
      new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); });`,
        { eval: true },
      ),
  );
  const pending = new Map<number, { resolve: (o: Output) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const ready = workers.map(
    (worker, w) =>
      new Promise<void>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (reply: WorkerReply) => {
          if (reply.kind === 'ready') return resolve();
          const waiter = pending.get(reply.seq);
          pending.delete(reply.seq);
          if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
          else waiter?.resolve(reply.output as Output);
        });
        const mine = pairs.map((p, id) => ({ id, ...p })).filter((p) => p.id % count === w);
        worker.postMessage({ kind: 'setup', pairs: mine } satisfies WorkerMessage);
      }),
  );
  await Promise.all(ready);
  return {
    name: `${count} worker thread${count === 1 ? '' : 's'}`,
    async sendAll() {
      const outputs = await Promise.all(
        pairs.map(
          (_, pair) =>
            new Promise<Output>((resolve, reject) => {
              seq += 1;
              pending.set(seq, { resolve, reject });
              workers[pair % count]?.postMessage({ kind: 'call', seq, pair } satisfies WorkerMessage);
            }),
        ),
      );
      return outputs.reduce((n, o) => n + instancesIn(o), 0);
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * The cold fan-out query's AWS work done by the bare SDK as a script would, on the main thread:
 * one shared STS client, every account's AssumeRole at once, then a new EC2 client per account
 * and region with those credentials (the SDK binds credentials to a client) and its
 * DescribeInstances, nothing else (no GraphQL, no limits, no retries). The gateway's session
 * cache shares one EC2 client per region across accounts instead, so it can beat this.
 */
async function bareCold(sb: SandboxProcess): Promise<{ wallMs: number; cpuMs: number }> {
  const accounts = demoAccounts({ fixture: sb.fixture }).slice(0, ACCOUNTS);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const sts = new STSClient({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: sb.credentials,
    maxAttempts: 1,
  });
  const counts = await Promise.all(
    accounts.map(async (account) => {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'cold' }),
      );
      const credentials = credentialsOf(out);
      const perRegion = await Promise.all(
        REGIONS.map(async (region) => {
          const ec2 = new EC2Client({ endpoint: sb.endpoint, region, credentials, maxAttempts: 1 });
          try {
            return instancesIn(await ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 })));
          } finally {
            ec2.destroy();
          }
        }),
      );
      return perRegion.reduce((a, b) => a + b, 0);
    }),
  );
  sts.destroy();
  const wallMs = performance.now() - started;
  const instances = counts.reduce((a, b) => a + b, 0);
  if (instances !== ACCOUNTS * REGIONS.length * INSTANCES_PER_REGION) {
    throw new Error(`bare cold fan-out returned ${instances} instances`);
  }
  return { wallMs, cpuMs: cpuMicrosSince(cpu) / 1000 };
}

async function measure(sb: SandboxProcess, sender: Sender): Promise<Round> {
  const sandboxCpu0 = await sb.cpuMicros();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const instances = await sender.sendAll();
  const wallMs = performance.now() - started;
  const cpuMs = cpuMicrosSince(cpu) / 1000;
  const sandboxCpuMs = ((await sb.cpuMicros()) - sandboxCpu0) / 1000;
  const expected = ACCOUNTS * REGIONS.length * INSTANCES_PER_REGION;
  if (instances !== expected)
    throw new Error(`${sender.name} returned ${instances} of ${expected} instances`);
  return { wallMs, cpuMs, sandboxCpuMs, instances };
}

export async function benchSdkThreads(): Promise<BenchSection[]> {
  const sb = await startSandboxProcess({
    fixture: {
      accounts: ACCOUNTS,
      regions: REGIONS,
      instancesPerRegion: INSTANCES_PER_REGION,
      bucketsPerAccount: 0,
      objectsPerBucket: 0,
      seed: 1,
    },
    latency: latencyOf(AWS_LATENCY_MS),
  });
  const senders: Sender[] = [];
  try {
    const pairs = await pairsOf(sb);
    senders.push(mainThreadSender(pairs));
    for (const count of WORKER_COUNTS) senders.push(await workerSender(pairs, count));
    const rounds = new Map<Sender, Round[]>(senders.map((s) => [s, []]));
    for (const sender of senders) await measure(sb, sender); // warm-up: JIT, sockets, endpoints
    for (let round = 0; round < ROUNDS; round++) {
      for (const sender of senders) rounds.get(sender)?.push(await measure(sb, sender));
    }
    const calls = pairs.length;
    const medians = senders.map((sender) => medianBy(rounds.get(sender) ?? [], (x) => x.wallMs));
    const [main, ...byWorkers] = medians as [Round, ...Round[]];
    const rangeOf = (values: number[]) =>
      `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}x`;
    const rows = senders.map((sender, i) => {
      const all = rounds.get(sender) ?? [];
      const r = medians[i] as Round;
      return [
        sender.name,
        calls,
        Math.round(r.wallMs),
        `${(main.wallMs / r.wallMs).toFixed(2)}x`,
        Math.round(r.cpuMs),
        Math.round((r.cpuMs * 1000) / calls),
        Math.round(r.sandboxCpuMs),
        ((r.cpuMs + r.sandboxCpuMs) / r.wallMs).toFixed(2),
        all.map((x) => Math.round(x.wallMs)).join(', '),
      ];
    });
    const seq = await sequential(sb, ACCOUNTS);
    const colds: Array<{ wallMs: number; cpuMs: number }> = [];
    for (let round = 0; round < ROUNDS; round++) colds.push(await bareCold(sb));
    const cold = medianBy(colds, (r) => r.wallMs);
    const targetMs = seq.ms / 20;
    return [
      {
        title: 'SDK sends: main thread vs worker threads (bare SDK, 400 DescribeInstances at once)',
        description: `${ACCOUNTS} accounts x ${REGIONS.length} regions, ${INSTANCES_PER_REGION} instances each, ${AWS_LATENCY_MS} ms per call, one warm client per pair; median of ${ROUNDS} rounds (modes alternating). CPU: this process, all threads; sandbox: its own process. ${cpus().length} cores in all.`,
        columns: [
          'sent by',
          'calls',
          'wall ms',
          'speed-up vs main',
          'CPU ms (all threads)',
          'CPU µs / call',
          'sandbox CPU ms',
          'cores busy ((CPU + sandbox) / wall)',
          'wall ms, each round',
        ],
        rows,
        notes: [
          `Worker threads: ${rangeOf(byWorkers.map((r) => main.wallMs / r.wallMs))} of the main thread's speed, at ${rangeOf(byWorkers.map((r) => r.cpuMs / main.cpuMs))} its CPU per call (a message each way, the output cloned, more threads than cores).`,
          `The main thread alone keeps ${((main.cpuMs + main.sandboxCpuMs) / main.wallMs).toFixed(2)} cores busy (the SDK's XML parsing and signing on it, GC and libuv on helper threads); the sandbox takes its share of the same ${cpus().length} cores.`,
        ],
      },
      {
        title: 'The fan-out target against the bare SDK (cold, 200 accounts, main thread)',
        description: `The sequential recipe of the fan-out case, and the cold query's AWS work (${ACCOUNTS} AssumeRole, then ${ACCOUNTS * REGIONS.length} DescribeInstances, a new EC2 client per account and region, as the SDK binds credentials to a client) done by the bare SDK; median of ${ROUNDS} rounds. The gateway's target is cold >= 20x the sequential recipe.`,
        columns: ['run', 'wall ms', 'CPU ms (all threads)', 'vs sequential', 'wall ms, each round'],
        rows: [
          ['sequential recipe', Math.round(seq.ms), '', '1.0x', ''],
          ['20x target', Math.round(targetMs), '', '20.0x', ''],
          [
            'bare SDK, cold, a client per account and region',
            Math.round(cold.wallMs),
            Math.round(cold.cpuMs),
            `${(seq.ms / cold.wallMs).toFixed(1)}x`,
            colds.map((r) => Math.round(r.wallMs)).join(', '),
          ],
        ],
        notes: [
          `The bare SDK, cold, with a client per account and region, is ${(seq.ms / cold.wallMs).toFixed(1)}x the sequential recipe on this machine: ${cold.wallMs <= targetMs ? 'within' : 'short of'} the 20x target (${Math.round(targetMs)} ms). The gateway shares one client per region across accounts (see the fan-out case), which this script cannot do with the SDK alone.`,
        ],
      },
    ];
  } finally {
    for (const s of senders) await s.close();
    await sb.close();
  }
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  for (const section of await benchSdkThreads()) process.stdout.write(`${renderSection(section)}\n`);
}
