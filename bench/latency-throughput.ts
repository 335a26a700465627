/**
 * Case 3, latency and throughput: p50/p99 and requests/s at 16 connections (autocannon, 10 s,
 * loopback) for a warm query through the gateway, with its AWS-answer cache off and on, against
 * a bare graphql-yoga with the same SDL whose resolver returns the gateway's answer from memory
 * (the upper limit).
 * The server under test runs in its own process, the sandbox in another, autocannon here.
 * When the target is missed, a short `--cpu-prof` run of the gateway says where its time goes.
 * Then the `replicas` case (bench/replicas.ts): 1 vs 3 gateway processes on one Redis.
 * Run alone: node --import tsx bench/latency-throughput.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typeDefs } from '@rolegraph/gateway';
import { type GenerateFixtureOptions, generateFixture } from '@rolegraph/sandbox';
import autocannon from 'autocannon';
import { createSchema, createYoga } from 'graphql-yoga';
import { askCpuMicros, awaitLine } from './lib/child.js';
import { summarizeCpuProfile } from './lib/cpu-profile.js';
import { AWS_LATENCY_MS, CSRF_HEADERS, isMain, latencyOf, startBenchGateway } from './lib/gateway-harness.js';
import type { BenchSection } from './lib/report.js';
import { type SandboxProcess, startSandboxProcess } from './lib/sandbox-process.js';
import { benchReplicas } from './replicas.js';

const CONNECTIONS = 16;
const DURATION_S = 10;
const WARMUP_S = 2;
const PROFILE_S = 5;
const FIXTURE: GenerateFixtureOptions = { accounts: 3, instancesPerRegion: 10, seed: 1 };

/** A typical warm query: one account's instances in both regions (2 DescribeInstances). */
const QUERY = `query Warm { account(account: "account-0001") { alias
  instances(first: 10) { nodes { id type state name privateIp launchTime tags { key value } } } } }`;
const AWS_CALLS_PER_QUERY = 2;

type ServeOptions =
  | {
      mode: 'gateway';
      endpoint: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
      /** The AWS-answer cache on (defaults: 60 s) or off. */
      cache: boolean;
    }
  | { mode: 'bare'; dataFile: string };

interface ServerProcess {
  url: string;
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

async function startServerProcess(options: ServeOptions, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--no-warnings',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--serve',
      JSON.stringify(options),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const url = await awaitLine(child, /LISTENING (\S+)/, 'server process');
  return {
    url,
    cpuMicros: () => askCpuMicros(child),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      // A message, not a signal: the child exits through process.exit, which writes --cpu-prof.
      child.send('stop');
      await exited;
    },
  };
}

/** The child: the gateway over the sandbox, or the bare server, on 127.0.0.1. */
async function serve(options: ServeOptions): Promise<void> {
  let handler: Parameters<typeof createServer>[1];
  let close: () => Promise<void> = async () => {};
  if (options.mode === 'gateway') {
    const gateway = await startBenchGateway({
      fixture: generateFixture(FIXTURE),
      endpoint: options.endpoint,
      credentials: options.credentials,
      // Hundreds of queries a second on one account are beyond its EC2 buckets, which the gateway
      // would wait for: unmetered here, since this case measures the gateway's own overhead.
      limits: { aws: { ec2: false } },
      cache: { enabled: options.cache },
    });
    handler = gateway;
    close = () => gateway.close();
  } else {
    const data = JSON.parse(await readFile(options.dataFile, 'utf8')) as { account: unknown };
    const yoga = createYoga({
      schema: createSchema({ typeDefs, resolvers: { Query: { account: () => data.account } } }),
      logging: false,
    });
    handler = yoga;
  }
  const server = createServer(handler);
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.(process.cpuUsage());
    if (message === 'stop') {
      server.closeAllConnections();
      server.close();
      void close().finally(() => process.exit(0));
    }
  });
  process.once('disconnect', () => process.exit(0));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}/graphql\n`);
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  cpuMicrosPerRequest: number;
  sandboxCpuMicrosPerRequest?: number;
  awsCalls?: number;
}

async function load(server: ServerProcess, seconds: number, sandbox?: SandboxProcess): Promise<LoadResult> {
  const cpuBefore = await server.cpuMicros();
  const sbBefore = sandbox ? await sandbox.cpuMicros() : 0;
  if (sandbox) await sandbox.reset();
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    headers: CSRF_HEADERS,
    body: JSON.stringify({ query: QUERY }),
    connections: CONNECTIONS,
    duration: seconds,
  });
  const cpu = (await server.cpuMicros()) - cpuBefore;
  const requests = result.requests.total;
  const out: LoadResult = {
    requests,
    rps: requests / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: cpu / Math.max(1, requests),
  };
  if (sandbox) {
    out.sandboxCpuMicrosPerRequest = ((await sandbox.cpuMicros()) - sbBefore) / Math.max(1, requests);
    out.awsCalls = await sandbox.calls({ service: 'ec2', operation: 'DescribeInstances' });
  }
  return out;
}

/** One request by hand: the body must be data without errors. */
async function answer(url: string): Promise<{ data: { account: unknown } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: CSRF_HEADERS,
    body: JSON.stringify({ query: QUERY }),
  });
  const text = await res.text();
  let body: { data?: { account: unknown }; errors?: unknown[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`bad answer: HTTP ${res.status}: ${text.slice(0, 300) || '(empty body)'}`);
  }
  if (!body.data?.account || body.errors)
    throw new Error(`bad answer: ${JSON.stringify(body).slice(0, 300)}`);
  return { data: body.data };
}

export async function benchLatencyThroughput(): Promise<BenchSection[]> {
  const sections = await benchSingleGateway();
  // The replicas case after this one's sandbox is gone: it starts its own, and Redis.
  sections.push(...(await benchReplicas()));
  return sections;
}

async function benchSingleGateway(): Promise<BenchSection[]> {
  const loadBefore = loadavg()[0] ?? 0;
  const sandbox = await startSandboxProcess({ fixture: FIXTURE, latency: latencyOf(0) });
  const dir = await mkdtemp(join(tmpdir(), 'rolegraph-bench-'));
  const gatewayOptions = (cache: boolean): ServeOptions => ({
    mode: 'gateway',
    endpoint: sandbox.endpoint,
    credentials: sandbox.credentials,
    cache,
  });
  try {
    const rows: Array<Array<string | number>> = [];
    const row = (name: string, r: LoadResult, base?: LoadResult) => [
      name,
      r.p50,
      r.p99,
      Math.round(r.rps),
      base ? `${((100 * r.rps) / base.rps).toFixed(0)}%` : '100%',
      Math.round(r.cpuMicrosPerRequest),
      r.sandboxCpuMicrosPerRequest === undefined ? '' : Math.round(r.sandboxCpuMicrosPerRequest),
      r.awsCalls === undefined ? '' : (r.awsCalls / Math.max(1, r.requests)).toFixed(2),
      r.failures,
    ];
    let bareResult: LoadResult;
    /** Warm-up, then the timed run at 0 ms and at AWS_LATENCY_MS of AWS latency. */
    const measureGateway = async (gateway: ServerProcess) => {
      await load(gateway, WARMUP_S, sandbox);
      const zero = await load(gateway, DURATION_S, sandbox);
      await sandbox.setLatency(latencyOf(AWS_LATENCY_MS));
      const twenty = await load(gateway, DURATION_S, sandbox);
      await sandbox.setLatency(latencyOf(0));
      return { zero, twenty };
    };
    let uncached: { zero: LoadResult; twenty: LoadResult };
    let cached: { zero: LoadResult; twenty: LoadResult };
    {
      const gateway = await startServerProcess(gatewayOptions(false));
      let bare: ServerProcess | undefined;
      try {
        const { data } = await answer(gateway.url);
        await writeFile(join(dir, 'answer.json'), JSON.stringify(data));
        bare = await startServerProcess({ mode: 'bare', dataFile: join(dir, 'answer.json') });
        const bareAnswer = await answer(bare.url);
        if (JSON.stringify(bareAnswer.data) !== JSON.stringify(data)) {
          throw new Error('the bare server does not answer what the gateway answers');
        }
        await load(bare, WARMUP_S);
        bareResult = await load(bare, DURATION_S);
        await bare.close();
        bare = undefined;
        uncached = await measureGateway(gateway);
      } finally {
        await bare?.close();
        await gateway.close();
      }
    }
    {
      const gateway = await startServerProcess(gatewayOptions(true));
      try {
        const { data } = await answer(gateway.url);
        const expected = JSON.parse(await readFile(join(dir, 'answer.json'), 'utf8')) as unknown;
        if (JSON.stringify(data) !== JSON.stringify(expected)) {
          throw new Error('the cached gateway does not answer what the uncached one answers');
        }
        cached = await measureGateway(gateway);
      } finally {
        await gateway.close();
      }
    }
    rows.push(row('bare graphql-yoga, answer from memory (upper limit)', bareResult));
    rows.push(row('rolegraph gateway, cache off, warm, 0 ms AWS latency', uncached.zero, bareResult));
    rows.push(
      row(
        `rolegraph gateway, cache off, warm, ${AWS_LATENCY_MS} ms AWS latency`,
        uncached.twenty,
        bareResult,
      ),
    );
    rows.push(row('rolegraph gateway, cache on (60 s), warm, 0 ms AWS latency', cached.zero, bareResult));
    rows.push(
      row(
        `rolegraph gateway, cache on (60 s), warm, ${AWS_LATENCY_MS} ms AWS latency`,
        cached.twenty,
        bareResult,
      ),
    );
    const share = cached.zero.rps / bareResult.rps;
    const met = share >= 0.5;
    const notes = [
      `Target (cache on, 0 ms row) warm-query throughput ≥ 50% of the bare server: ${met ? 'met' : 'MISSED'} (${(100 * share).toFixed(0)}%). Cache off: ${((100 * uncached.zero.rps) / bareResult.rps).toFixed(0)}%.`,
      `Warm: sessions cached before the timed run (a ${WARMUP_S} s warm-up). Cache off: every request makes ${AWS_CALLS_PER_QUERY} DescribeInstances ("AWS calls / req" is the sandbox's count divided by requests). Cache on (the gateway's default, 60 s TTL): the warm-up filled it and both timed runs fall within the TTL, so requests are answered from it (AWS calls / req near 0) and the AWS latency hardly matters. With ${AWS_LATENCY_MS} ms per call and ${CONNECTIONS} connections, the uncached ${AWS_LATENCY_MS} ms row is bound by latency (at most ${CONNECTIONS} / ${2 * AWS_LATENCY_MS} ms = ${Math.round(CONNECTIONS / ((2 * AWS_LATENCY_MS) / 1000))} req/s: the 2 regions are read one after the other when the first does not fill the page).`,
      '"server CPU µs / req" is the user + system CPU time of the server process per answered request: less sensitive to neighbours than req/s. The sandbox runs in its own process and its CPU is shown apart; on this machine it competes with the gateway and autocannon for the same cores.',
      `Machine load average (1 min) before / after: ${loadBefore.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)}.`,
    ];
    const sections: BenchSection[] = [
      {
        title:
          'Latency and throughput: warm query through the gateway (answer cache off and on) against a bare graphql-yoga',
        description: `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per target, loopback, POST of \`${QUERY.replace(/\s+/g, ' ')}\` (generateFixture: 3 accounts × 2 regions × 10 instances). Bare: a plain graphql-yoga with the same SDL whose \`account\` resolver returns the gateway's answer, precomputed (checked equal). Server under test and sandbox each in their own process.`,
        columns: [
          'target',
          'p50 ms',
          'p99 ms',
          'req/s',
          '% of bare',
          'server CPU µs / req',
          'sandbox CPU µs / req',
          'AWS calls / req',
          'failures',
        ],
        rows,
        notes,
      },
    ];
    if (!met) sections.push(await profileGateway(gatewayOptions(true), dir, sandbox));
    return sections;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sandbox.close();
  }
}

/** A short load on a `--cpu-prof` gateway: self time by package and the hottest functions. */
async function profileGateway(
  options: ServeOptions,
  dir: string,
  sandbox: SandboxProcess,
): Promise<BenchSection> {
  const profDir = join(dir, 'prof');
  const gateway = await startServerProcess(options, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  try {
    await load(gateway, PROFILE_S, sandbox);
  } finally {
    await gateway.close();
  }
  const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const summary = await summarizeCpuProfile(join(profDir, file), 12);
  const busy = summary.totalMs - summary.idleMs;
  return {
    title: 'Latency and throughput: where the cached gateway spends its CPU (--cpu-prof, 0 ms AWS latency)',
    description: `The gateway process under the same load for ${PROFILE_S} s with \`--cpu-prof\` (busy ${(busy / 1000).toFixed(1)} s of ${(summary.totalMs / 1000).toFixed(1)} s). Self time, as a share of the busy time, by package and by function.`,
    columns: ['where', 'self ms', 'share of busy'],
    rows: [
      ...summary.byPackage.map((p) => [
        `package: ${p.name}`,
        Math.round(p.ms),
        `${(100 * p.share).toFixed(1)}%`,
      ]),
      ...summary.topFunctions.map((f) => [
        `fn: ${f.name}`,
        Math.round(f.ms),
        `${(100 * f.share).toFixed(1)}%`,
      ]),
    ],
  };
}

if (isMain(import.meta.url)) {
  const at = process.argv.indexOf('--serve');
  if (at >= 0) {
    await serve(JSON.parse(process.argv[at + 1] ?? '{}') as ServeOptions);
  } else {
    const { renderSection } = await import('./lib/report.js');
    for (const s of await benchLatencyThroughput()) process.stdout.write(`\n${renderSection(s)}`);
  }
}
