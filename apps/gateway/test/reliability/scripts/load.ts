// Run as a child process with --expose-gc by load.integration.test.ts: fixed-concurrency load on
// loopback against mixed queries, then heap after GC against heap after GC at the start.
// Prints one JSON line.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandbox } from '@rolegraph/sandbox';
import { parseConfig } from '../../../src/config/load-config.js';
import { createGateway } from '../../../src/create-gateway.js';
import { demoAccounts } from '../../../src/demo.js';
import { FAN_OUT_QUERY } from '../support.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 60);
const connections = 16;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const heapAfterGc = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
};

const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
// No answer cache: what is measured is every query reaching AWS (the sandbox), as without one.
const config = await parseConfig({
  accounts: demoAccounts(sandbox),
  aws: { endpoint: sandbox.endpoint },
  cache: { enabled: false },
});
const identity = { ...sandbox.credentials };
const gateway = createGateway({ config, sourceCredentials: async () => identity, log: () => {} });
const server = createServer(gateway);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const queries = [
  FAN_OUT_QUERY,
  '{ instances(account: "prod", region: "us-east-1", first: 5) { nodes { id state type } pageInfo { hasNextPage } } }',
  '{ buckets(account: "staging") { nodes { name region encryption { algorithm } } } }',
  '{ account(account: "audit") { alias status { credentialState callerIdentity { arn } } } }',
  '{ accounts(aliases: ["prod", "audit"]) { alias instances(region: "eu-west-1") { nodes { id volumes { id } } } } }',
];
const requests = queries.map((query) => ({
  method: 'POST',
  path: '/graphql',
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify({ query }),
}));

interface Tally {
  sent: number;
  answered: number;
  statuses: Record<string, number>;
  graphqlErrors: Record<string, number>;
  failures: number;
  maxLatencyMs: number;
}

/** `connections` loops, each waiting for its answer before the next request: nothing in flight is dropped. */
async function run(duration: number): Promise<Tally> {
  const tally: Tally = {
    sent: 0,
    answered: 0,
    statuses: {},
    graphqlErrors: {},
    failures: 0,
    maxLatencyMs: 0,
  };
  const deadline = performance.now() + duration * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const request = requests[next++ % requests.length] as (typeof requests)[number];
        tally.sent++;
        const started = performance.now();
        try {
          const response = await fetch(`${url}${request.path}`, request);
          const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
          tally.answered++;
          tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
          for (const e of body.errors ?? []) {
            const code = String(e.extensions?.code);
            tally.graphqlErrors[code] = (tally.graphqlErrors[code] ?? 0) + 1;
          }
        } catch {
          tally.failures++;
        }
        tally.maxLatencyMs = Math.max(tally.maxLatencyMs, performance.now() - started);
      }
    }),
  );
  return tally;
}

await run(3); // warm-up: sessions, SDK clients, JIT
const heapStart = await heapAfterGc();
const result = await run(seconds);
const heapEnd = await heapAfterGc();
const metrics = await gateway.metrics.registry.getMetricsAsJSON();
const operations = metrics.find((m) => m.name === 'rolegraph_gateway_graphql_operations_total');
const outcomes: Record<string, number> = {};
for (const v of (operations?.values ?? []) as Array<{
  labels: Record<string, string | number>;
  value: number;
}>) {
  const outcome = String(v.labels.outcome);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + v.value;
}
await gateway.close();
await new Promise<void>((resolve) => server.close(() => resolve()));
await sandbox.close();
process.stdout.write(
  `${JSON.stringify({
    seconds,
    connections,
    ...result,
    maxLatencyMs: Math.round(result.maxLatencyMs),
    requestsPerSecond: Math.round(result.answered / seconds),
    outcomes,
    heapStartMiB: +(heapStart / 2 ** 20).toFixed(1),
    heapEndMiB: +(heapEnd / 2 ** 20).toFixed(1),
    heapDeltaMiB: +((heapEnd - heapStart) / 2 ** 20).toFixed(1),
  })}\n`,
);
