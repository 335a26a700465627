/**
 * Memory per session and per further region: the session cache's shared SDK clients (the
 * default), clients per session over one shared HTTP handler (`shareClients: false`), and the
 * SDK's way, clients per session each with its own handler (also `sharedRequestHandler: false`):
 * 1,000 assumed-role sessions each send one DescribeInstances in one region, then one in a
 * second region; heap after GC is read before and after each step, and the open sockets counted.
 * The sandbox runs in its own process, so only this process's heap is measured.
 * Run alone: node --expose-gc --import tsx bench/client-memory.ts
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { createSessionCache, createSharedRequestHandler, sharedSdkSettings } from '@rolegraph/credentials';
import { demoAccounts } from '@rolegraph/gateway';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { isMain, runBounded } from './lib/gateway-harness.js';
import { cpuMicrosSince, median } from './lib/measure.js';
import type { BenchSection } from './lib/report.js';
import { startSandboxProcess } from './lib/sandbox-process.js';

const SESSIONS = 1000;
const REGIONS = ['us-east-1', 'eu-west-1'];
const CONCURRENCY = 32;

const gc = (globalThis as { gc?: () => void }).gc;
async function heapAfterGc(): Promise<number> {
  if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
/** Open sockets of this process (idle keep-alive ones included), from /proc on Linux. */
function sockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // Closed while listing.
    }
  }
  return n;
}
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

interface Measured {
  perSessionKb: string;
  perClientKb: string;
  sockets: number;
  projectedMb: string;
}

const CREATION_CALLS = 1000;
const CREATION_ROUNDS = 6;

/**
 * CPU of this process per DescribeInstances when every call has a new client (as every first
 * call of an account and region does, and every call of a client the pool had dropped), with
 * the SDK reading its environment and profile settings per client, and with the session
 * cache's `sharedSdkSettings()`; against one client reused. Gateway-like clients: the shared
 * handler, a retry strategy given.
 */
async function clientCreationCpu(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<BenchSection> {
  const shared = createSharedRequestHandler();
  const config = () => ({
    endpoint,
    region: 'us-east-1',
    credentials: { ...credentials },
    requestHandler: shared.handler,
    retryStrategy: new ConfiguredRetryStrategy(1),
  });
  const cpuPerCall = async (client: () => EC2Client) => {
    const started = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < CREATION_CALLS) await client().send(new DescribeInstancesCommand({ MaxResults: 5 }));
      }),
    );
    return cpuMicrosSince(started) / CREATION_CALLS;
  };
  const reused = new EC2Client(config());
  const ways = {
    reused: () => reused,
    perClient: () => new EC2Client(config()),
    shared: () => new EC2Client({ ...sharedSdkSettings(), ...config() }),
  };
  const samples: Record<keyof typeof ways, number[]> = { reused: [], perClient: [], shared: [] };
  // Interleaved rounds, the first one a JIT warm-up left out of the medians.
  for (let round = 0; round < CREATION_ROUNDS; round++) {
    for (const way of Object.keys(ways) as Array<keyof typeof ways>) {
      const micros = await cpuPerCall(ways[way]);
      if (round > 0) samples[way].push(micros);
    }
  }
  reused.destroy();
  shared.destroy();
  const base = median(samples.reused);
  const row = (name: string, values: number[]) => {
    const m = median(values);
    return [name, m.toFixed(0), name.startsWith('one client') ? '' : (m - base).toFixed(0)];
  };
  return {
    title: 'CPU of a new SDK client: settings read per client (the SDK) against read once per process',
    description: `${CREATION_CALLS} DescribeInstances, 16 in flight, against the sandbox (its own process), each through a new EC2Client (the shared HTTP handler, a retry strategy given, as the gateway's); median CPU µs of this process per call over ${CREATION_ROUNDS - 1} interleaved rounds. Per client: the SDK builds and runs its provider chains (environment, profile files, default) for useFipsEndpoint, useDualstackEndpoint, userAgentAppId and authSchemePreference at the client's first request. Shared: \`sharedSdkSettings()\` from @rolegraph/credentials, as every session client gets them.`,
    columns: ['client per call', 'CPU µs per call', 'CPU µs for the new client'],
    rows: [
      row('one client reused', samples.reused),
      row('new client, settings read per client (SDK default)', samples.perClient),
      row('new client, settings shared (session cache default)', samples.shared),
    ],
    notes: [
      `Samples (µs per call): ${Object.entries(samples)
        .map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join(' ')}`)
        .join('; ')}.`,
    ],
  };
}

const LOGGER_CALLS = 2000;
const LOGGER_ROUNDS = 8;
const LOGGER_INSTANCES = 10;

/**
 * CPU of this process per DescribeInstances (a page of 10 instances) through a
 * session client, with the SDK's default logger (a no-op with `info`, so the SDK builds its
 * per-call info entry: the input and output walked through the schema's sensitive-data filter)
 * and with the session cache's default `SDK_LOGGER_WITHOUT_INFO`. Same session cache options
 * otherwise; alternating rounds, medians.
 */
async function loggerCpu(): Promise<BenchSection> {
  const sb = await startSandboxProcess({
    fixture: {
      accounts: 1,
      regions: ['us-east-1'],
      instancesPerRegion: LOGGER_INSTANCES,
      bucketsPerAccount: 0,
      objectsPerBucket: 0,
      seed: 5,
    },
  });
  try {
    const role = demoAccounts({ fixture: sb.fixture })[0]?.roleArn ?? '';
    const noop = () => {};
    const withInfo = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };
    const cacheOf = (logger?: object) =>
      createSessionCache({
        sourceCredentials: async () => ({ ...sb.credentials }),
        stsEndpoint: sb.endpoint,
        clientDefaults: { endpoint: sb.endpoint, maxAttempts: 1, ...(logger ? { logger } : {}) },
        refresh: { proactiveRefresh: false },
      });
    const caches = { sdkDefault: cacheOf(withInfo), sessionDefault: cacheOf() };
    const cpuPerCall = async (cache: ReturnType<typeof cacheOf>) => {
      const client = cache.get({ roleArn: role }).client(EC2Client, 'us-east-1');
      const started = process.cpuUsage();
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < LOGGER_CALLS) await client.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
        }),
      );
      return cpuMicrosSince(started) / LOGGER_CALLS;
    };
    const samples: Record<keyof typeof caches, number[]> = { sdkDefault: [], sessionDefault: [] };
    for (let round = 0; round < LOGGER_ROUNDS; round++) {
      // Alternate which goes first; round 0 is a JIT warm-up left out.
      const order = (
        round % 2 === 0 ? ['sdkDefault', 'sessionDefault'] : ['sessionDefault', 'sdkDefault']
      ) as Array<keyof typeof caches>;
      for (const way of order) {
        const micros = await cpuPerCall(caches[way]);
        if (round > 0) samples[way].push(micros);
      }
    }
    for (const cache of Object.values(caches)) cache.close();
    const base = median(samples.sdkDefault);
    const ours = median(samples.sessionDefault);
    return {
      title:
        'CPU of the SDK info log entry nobody reads: a logger with info (the SDK default) against SDK_LOGGER_WITHOUT_INFO',
      description: `${LOGGER_CALLS} DescribeInstances (${LOGGER_INSTANCES} instances per page), 16 in flight, through one session client of \`createSessionCache\` against the sandbox (its own process); median CPU µs of this process per call over ${LOGGER_ROUNDS - 1} alternating rounds. The SDK's logger middleware builds \`{ input: filter(input), output: filter(output) }\` for every call when the client's logger has \`info\` (its default NoOpLogger has); session clients get a logger without \`info\` unless \`clientDefaults.logger\` names one.`,
      columns: ['client logger', 'CPU µs per call', 'vs SDK default'],
      rows: [
        ['no-op with info (the SDK default NoOpLogger)', base.toFixed(0), '1.00x'],
        ['SDK_LOGGER_WITHOUT_INFO (session cache default)', ours.toFixed(0), `${(ours / base).toFixed(2)}x`],
      ],
      notes: [
        `Samples (µs per call): ${Object.entries(samples)
          .map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join(' ')}`)
          .join('; ')}.`,
      ],
    };
  } finally {
    await sb.close();
  }
}

export async function benchClientMemory(): Promise<BenchSection[]> {
  const sb = await startSandboxProcess({
    fixture: {
      accounts: SESSIONS,
      regions: REGIONS,
      instancesPerRegion: 1,
      bucketsPerAccount: 0,
      objectsPerBucket: 0,
      seed: 3,
    },
  });
  try {
    const roles = demoAccounts({ fixture: sb.fixture }).slice(0, SESSIONS);
    const measure = async (sharedRequestHandler: boolean, shareClients: boolean): Promise<Measured> => {
      const sessions = createSessionCache({
        shareClients,
        sourceCredentials: async () => ({ ...sb.credentials }),
        stsEndpoint: sb.endpoint,
        clientDefaults: { endpoint: sb.endpoint, maxAttempts: 1 },
        refresh: { proactiveRefresh: false },
        sharedRequestHandler,
        maxSessions: 2 * SESSIONS,
      });
      const send = (i: number, region: string) =>
        sessions
          .get({ roleArn: roles[i]?.roleArn ?? '' })
          .client(EC2Client, region)
          .send(new DescribeInstancesCommand({ MaxResults: 5 }))
          .then(() => undefined);
      const socketsBefore = sockets();
      const h0 = await heapAfterGc();
      await runBounded(SESSIONS, CONCURRENCY, (i) => send(i, REGIONS[0] as string));
      const h1 = await heapAfterGc();
      await runBounded(SESSIONS, CONCURRENCY, (i) => send(i, REGIONS[1] as string));
      const h2 = await heapAfterGc();
      const open = sockets() - socketsBefore;
      sessions.close();
      const perSession = (h1 - h0) / SESSIONS; // the session, its AssumeRole STS client and one EC2 client
      const perClient = (h2 - h1) / SESSIONS; // one more region of a session (its own client, or a view)
      // 5,000 accounts × 17 regions: 5,000 sessions with their first client, 16 more clients each.
      const projected = 5000 * perSession + 5000 * 16 * perClient;
      return {
        perSessionKb: kb(perSession),
        perClientKb: kb(perClient),
        sockets: open,
        projectedMb: (projected / 1024 / 1024).toFixed(0),
      };
    };
    // Warm up the SDK and the JIT, then measure each way on a fresh cache.
    await measure(true, true);
    const perClient = await measure(false, false);
    const sharedHandler = await measure(true, false);
    const shared = await measure(true, true);
    const row = (name: string, m: Measured) => [
      name,
      m.perSessionKb,
      m.perClientKb,
      m.sockets,
      m.projectedMb,
    ];
    const creation = await clientCreationCpu(sb.endpoint, sb.credentials);
    return [
      {
        title: 'Memory per session and per further region: shared SDK clients against clients per session',
        description: `${SESSIONS} assumed-role sessions of \`createSessionCache\` against the sandbox (its own process): each sends one DescribeInstances in ${REGIONS[0]} (heap after GC before and after: the session, its AssumeRole STS client and its first EC2 client or view), then one in ${REGIONS[1]} (one more region per session). ${CONCURRENCY} calls in flight. Open sockets: sockets of this process still open after both rounds (idle keep-alive ones included).`,
        columns: [
          'SDK clients',
          'KB per session (with its first region)',
          'KB per further region of a session',
          'open sockets after 2,000 calls',
          'projected MB at 5,000 accounts × 17 regions',
        ],
        rows: [
          row(
            'per session, a handler each (the SDK way: shareClients and sharedRequestHandler false)',
            perClient,
          ),
          row('per session, one shared handler (shareClients: false)', sharedHandler),
          row('shared by every session, one per region (session cache default)', shared),
        ],
        notes: [
          'Projection: 5,000 × KB per session + 5,000 × 16 × KB per further region (sessions and clients only; no query in flight).',
          'The machine is shared with other sessions working in parallel; heap figures do not depend on its load.',
        ],
      },
      creation,
      await loggerCpu(),
    ];
  } finally {
    await sb.close();
  }
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  for (const s of await benchClientMemory()) process.stdout.write(`\n${renderSection(s)}`);
}
