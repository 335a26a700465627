/**
 * Sandbox throughput: DescribeInstances (10 ids) per second with signature checks on.
 * Run: node --import tsx bench/sandbox-throughput.ts   (from the repo root)
 * Two loops: the real SDK client (client cost included) and a replayed pre-signed request over keep-alive
 * HTTP (isolates the server). Both run in this one process, so the figures are for a single core.
 */

import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { generateFixture, startSandbox } from '../packages/sandbox/src/index.js';

export interface Row {
  name: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  errors: number;
}

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = 16;

async function loop(name: string, once: () => Promise<boolean>): Promise<Row> {
  let requests = 0;
  let errors = 0;
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
  return { name, requests, seconds, requestsPerSecond: Math.round(requests / seconds), errors };
}

/**
 * Extra node flags for the sandbox process only, e.g. `BENCH_SANDBOX_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`
 * to profile the server without the load generator (node refuses `--cpu-prof` in NODE_OPTIONS).
 */
const childNodeArgs = (process.env.BENCH_SANDBOX_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

const fixtureOptions = { accounts: 2, regions: ['us-east-1'], instancesPerRegion: 50, seed: 1 };

/** The sandbox runs in a child process so that its one core is not shared with the load generator. */
async function startSandboxProcess(): Promise<{
  endpoint: string;
  calls: () => Promise<number>;
  close: () => Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    [...childNodeArgs, '--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
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
    const c = assumed.Credentials;
    const credentials = {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    };
    const ids = member.instances.slice(0, 10).map((i) => i.id);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const ec2 = new EC2Client({ endpoint: sb.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const command = () => new DescribeInstancesCommand({ InstanceIds: ids });

    // Capture one signed request to replay it.
    let signed: { path: string; headers: Record<string, string>; body: string } | undefined;
    ec2.middlewareStack.addRelativeTo(
      (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
        const r = args.request as { path: string; headers: Record<string, string>; body: string };
        signed ??= { path: r.path, headers: { ...r.headers }, body: String(r.body) };
        return next(args);
      },
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'captureSigned' },
    );
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
    rows.push(await loop('raw pre-signed, keep-alive, c=16', raw));
    rows.push(
      await loop('AWS SDK v3 EC2Client, c=16', () =>
        ec2.send(command()).then(
          () => true,
          () => false,
        ),
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
    '| loop | requests | seconds | req/s | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.name} | ${r.requests} | ${r.seconds.toFixed(2)} | ${r.requestsPerSecond} | ${r.errors} |`,
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
  console.log(`ENDPOINT ${sb.endpoint}`);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runSandboxThroughput();
  console.log('### Sandbox throughput: DescribeInstances (10 ids), SigV4 verified, one process\n');
  console.log(table(rows));
  console.log('\nTarget: >= 5000 req/s.');
}
