/**
 * Sandbox throughput: DescribeInstances (10 ids) per second with signature checks on.
 * Run: node --import tsx bench/sandbox-throughput.ts   (from the repo root)
 * Two loops: the real SDK client (client cost included) and a replayed pre-signed request over keep-alive
 * HTTP (isolates the server). The sandbox runs alone in a child process (one event loop, so one core);
 * the load generator runs in this process. The sandbox's own CPU time per request is reported too: on a
 * shared machine req/s moves with the neighbours' load, CPU time per request much less.
 */

import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DescribeInstancesCommand,
  EC2Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { generateFixture, startSandbox } from '../packages/sandbox/src/index.js';
import { credentialsOf } from './lib/sts.js';

export interface Row {
  name: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  errors: number;
  /** User + system CPU time of the sandbox process per answered request, in microseconds. */
  sandboxCpuMicrosPerRequest: number;
}

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = 16;

async function loop(
  name: string,
  once: () => Promise<boolean>,
  sandboxCpuMicros: () => Promise<number>,
): Promise<Row> {
  let requests = 0;
  let errors = 0;
  const cpuBefore = await sandboxCpuMicros();
  const started = performance.now();
  const deadline = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        if (await once()) requests++;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = (await sandboxCpuMicros()) - cpuBefore;
  return {
    name,
    requests,
    seconds,
    requestsPerSecond: Math.round(requests / seconds),
    errors,
    sandboxCpuMicrosPerRequest: Math.round(cpu / Math.max(1, requests + errors)),
  };
}

/**
 * Extra node flags for the sandbox process only, to profile the server without the load generator (node
 * refuses `--cpu-prof` in NODE_OPTIONS):
 * `node --import tsx bench/sandbox-throughput.ts --sandbox-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"`
 */
const sandboxNodeArgsAt = process.argv.indexOf('--sandbox-node-args');
const childNodeArgs =
  sandboxNodeArgsAt < 0
    ? []
    : (process.argv[sandboxNodeArgsAt + 1] ?? '').split(/\s+/).filter((a) => a !== '');

const fixtureOptions = { accounts: 2, regions: ['us-east-1'], instancesPerRegion: 50, seed: 1 };

/** The sandbox runs in a child process so that its one core is not shared with the load generator. */
async function startSandboxProcess(): Promise<{
  endpoint: string;
  calls: () => Promise<number>;
  cpuMicros: () => Promise<number>;
  close: () => Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    [...childNodeArgs, '--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const stdout = child.stdout;
  if (!stdout) throw new Error('sandbox process has no stdout');
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ENDPOINT (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox process exited with ${code}`)));
  });
  return {
    endpoint,
    calls: async () => {
      const res = await fetch(`${endpoint}/_sandbox/calls?service=ec2&operation=DescribeInstances`);
      return ((await res.json()) as { count: number }).count;
    },
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        child.once('message', (usage: NodeJS.CpuUsage) => resolve(usage.user + usage.system));
        child.send('cpu');
      }),
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function runSandboxThroughput(): Promise<Row[]> {
  const fixture = generateFixture(fixtureOptions);
  const sb = await startSandboxProcess();
  const central = fixture.accounts[0]?.users[0];
  try {
    const sts = new STSClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: {
        accessKeyId: central?.accessKeyId ?? '',
        secretAccessKey: central?.secretAccessKey ?? '',
      },
    });
    const member = fixture.accounts[1];
    const role = member?.roles[0];
    if (!member || !role) throw new Error('fixture has no member account');
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'bench' }));
    const credentials = credentialsOf(assumed);
    const ids = member.instances.slice(0, 10).map((i) => i.id);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const ec2 = new EC2Client({ endpoint: sb.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const command = () => new DescribeInstancesCommand({ InstanceIds: ids });

    // Capture one signed request to replay it.
    let signed: { path: string; headers: Record<string, string>; body: string } | undefined;
    const capture: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
      (next) => async (args) => {
        const r = args.request as { path: string; headers: Record<string, string>; body: string };
        signed ??= { path: r.path, headers: { ...r.headers }, body: String(r.body) };
        return next(args);
      };
    ec2.middlewareStack.addRelativeTo(capture, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'captureSigned',
    });
    const first = await ec2.send(command());
    if (first.Reservations?.length !== 10) throw new Error('expected 10 reservations');
    const replay = signed;
    if (!replay) throw new Error('no signed request captured');
    const url = new URL(sb.endpoint);

    const raw = () =>
      new Promise<boolean>((resolve) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: replay.path,
            headers: replay.headers,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
          },
        );
        req.on('error', () => resolve(false));
        req.end(replay.body);
      });

    const before = await sb.calls();
    const rows: Row[] = [];
    rows.push(await loop('raw pre-signed, keep-alive, c=16', raw, sb.cpuMicros));
    rows.push(
      await loop(
        'AWS SDK v3 EC2Client, c=16',
        () =>
          ec2.send(command()).then(
            () => true,
            () => false,
          ),
        sb.cpuMicros,
      ),
    );
    const counted = (await sb.calls()) - before;
    const expected = rows.reduce((n, r) => n + r.requests, 0);
    if (counted !== expected + rows.reduce((n, r) => n + r.errors, 0) && counted < expected)
      throw new Error(`sandbox counted ${counted} calls, bench saw ${expected}`);
    agent.destroy();
    ec2.destroy();
    sts.destroy();
    return rows;
  } finally {
    await sb.close();
  }
}

function table(rows: Row[]): string {
  const lines = [
    '| loop | requests | seconds | req/s | errors | sandbox CPU µs/req |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.requests} | ${r.seconds.toFixed(2)} | ${r.requestsPerSecond} | ${r.errors} | ${r.sandboxCpuMicrosPerRequest} |`,
    ),
  ];
  return lines.join('\n');
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--serve'
) {
  const sb = await startSandbox({ fixture: generateFixture(fixtureOptions) });
  process.on('SIGTERM', () => {
    void sb.close().then(() => process.exit(0));
  });
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.(process.cpuUsage());
  });
  console.log(`ENDPOINT ${sb.endpoint}`);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runSandboxThroughput();
  console.log('### Sandbox throughput: DescribeInstances (10 ids), SigV4 verified, one process\n');
  console.log(table(rows));
  console.log('\nTarget: >= 5000 req/s.');
}
