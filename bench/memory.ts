/**
 * Case 5, memory: RSS and heap used after GC before and after 10 000 queries over 200
 * accounts, and after a second 10 000, through `gateway.fetch` in-process with bounded
 * concurrency. The sandbox runs in its own process, so only the gateway's memory is measured.
 * Run alone: node --expose-gc --import tsx bench/memory.ts
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Gateway } from '@rolegraph/gateway';
import {
  AWS_LATENCY_MS,
  expectData,
  gql,
  isMain,
  latencyOf,
  runBounded,
  startBenchGateway,
} from './lib/gateway-harness.js';
import type { BenchSection } from './lib/report.js';
import { startSandboxProcess } from './lib/sandbox-process.js';

const ACCOUNTS = 200;
const QUERIES_PER_ROUND = 10_000;
// 16 in flight: enough to keep the gateway busy without queueing past the SDK timeouts.
const CONCURRENCY = 16;
/** Growth from round 1 to round 2 above this share of the round-1 heap counts as unbounded. */
const GROWTH_TOLERANCE = 0.1;

/** EC2 or S3, one AWS call each, so a round of 10 000 stays near a minute on a loaded machine. */
const QUERIES = [
  `query Ec2($account: String!) { account(account: $account) { alias
    instances(region: "us-east-1", first: 5) { nodes { id state type } } } }`,
  `query S3($account: String!) { account(account: $account) { alias buckets(first: 5) { nodes { name region } } } }`,
] as const;
const QUERY = QUERIES[0];

interface Snapshot {
  rssMb: number;
  heapMb: number;
  sessions: number;
  gc: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function snapshot(gateway: Gateway): Promise<Snapshot> {
  if (gc) {
    // Several passes with turns between them, so finalizers and weak refs settle.
    for (let i = 0; i < 4; i++) {
      gc();
      await nextTurn();
    }
  }
  const m = process.memoryUsage();
  return {
    rssMb: m.rss / 2 ** 20,
    heapMb: m.heapUsed / 2 ** 20,
    sessions: gateway.sessions.size,
    gc: gc !== undefined,
  };
}

export async function benchMemory(): Promise<BenchSection[]> {
  const sb = await startSandboxProcess({
    fixture: {
      accounts: ACCOUNTS,
      instancesPerRegion: 5,
      bucketsPerAccount: 2,
      objectsPerBucket: 0,
      seed: 1,
    },
    latency: latencyOf(AWS_LATENCY_MS),
  });
  const gateway = await startBenchGateway({
    fixture: sb.fixture,
    endpoint: sb.endpoint,
    credentials: sb.credentials,
  });
  try {
    const aliases = sb.fixture.accounts.filter((a) => a.id !== '000000000000').map((a) => a.alias);
    // One query first so the modules and the schema are loaded: "before" is the idle gateway.
    expectData(await gql(gateway, QUERY, { account: aliases[0] }), 'first query');
    const rows: Array<Array<string | number>> = [];
    const record = (label: string, s: Snapshot, seconds?: number) =>
      rows.push([
        label,
        s.rssMb.toFixed(1),
        s.heapMb.toFixed(1),
        s.sessions,
        seconds === undefined ? '' : seconds.toFixed(1),
        s.gc ? 'after GC' : 'NO global.gc (run with node --expose-gc): not collected first',
      ]);
    const before = await snapshot(gateway);
    record('before (1 query done)', before);
    const rounds: Snapshot[] = [];
    for (let round = 1; round <= 2; round++) {
      const started = performance.now();
      await runBounded(QUERIES_PER_ROUND, CONCURRENCY, async (i) => {
        const account = aliases[i % aliases.length];
        // EC2 on one pass over the accounts, S3 on the next, so every account sees both.
        const query = QUERIES[Math.floor(i / aliases.length) % 2] ?? QUERY;
        expectData(await gql(gateway, query, { account }), `query ${i} of round ${round}`);
      });
      const seconds = (performance.now() - started) / 1000;
      const s = await snapshot(gateway);
      rounds.push(s);
      record(`after ${(round * QUERIES_PER_ROUND).toLocaleString('en-US')} queries`, s, seconds);
    }
    const [first, second] = rounds as [Snapshot, Snapshot];
    const growth = second.heapMb - first.heapMb;
    const bounded = growth <= first.heapMb * GROWTH_TOLERANCE;
    return [
      {
        title: `Memory: ${QUERIES_PER_ROUND.toLocaleString('en-US')} queries twice over ${ACCOUNTS} accounts`,
        description: `In-process \`gateway.fetch\`, ${CONCURRENCY} queries in flight, alternately one account's instances in one region and its buckets (\`${QUERIES.map((q) => q.replace(/\s+/g, ' ')).join('` / `')}\`), accounts in rotation, EC2 and S3 on alternate passes over the ${ACCOUNTS} accounts; ${AWS_LATENCY_MS} ms injected latency per AWS call; the sandbox in its own process, so the figures are the gateway's process only. Session cache size: \`gateway.sessions.size\` (one session per account reached, bounded by maxSessions 1000 and a 30 min idle TTL).`,
        columns: ['when', 'RSS MB', 'heap used MB', 'sessions cached', 'round s', 'GC'],
        rows,
        notes: [
          `Bounded: heap used grew ${growth.toFixed(1)} MB from the first ${QUERIES_PER_ROUND.toLocaleString('en-US')} to the second (${((100 * growth) / first.heapMb).toFixed(1)}% of the round-1 heap; tolerance ${100 * GROWTH_TOLERANCE}%): ${bounded ? 'met' : 'MISSED'}. Sessions: ${first.sessions} then ${second.sessions} (${ACCOUNTS} accounts).`,
          'Round 1 includes one AssumeRole per account (sessions created); DataLoaders are per request and dropped with it.',
          ...(gc ? [] : ['global.gc is missing: the figures include garbage not yet collected.']),
        ],
      },
    ];
  } finally {
    await gateway.close();
    await sb.close();
  }
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  for (const s of await benchMemory()) process.stdout.write(`\n${renderSection(s)}`);
}
