// Run as a child process by sandbox-restart.integration.test.ts: the process must exit on its
// own once everything is closed, which proves no ref'd timer or socket is left behind.
// Prints one JSON line with what it saw.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { parseConfig } from '../../../src/config/load-config.js';
import { createGateway } from '../../../src/create-gateway.js';
import { demoAccounts } from '../../../src/demo.js';
import type { GraphQLResponse } from '../../helpers.js';
import { FAN_OUT_QUERY, type FanOutData, isComplete } from '../support.js';

// Short sessions and a short refresh backoff, so credentials minted by the first sandbox
// (which the second one does not know: real STS sessions would outlive an outage) are replaced
// within seconds of the restart. With the default 5-10 min backoff the gateway keeps serving
// them, and they are refused, until the backoff ends (see the report of issue 7).
const SESSION_SECONDS = 3;
const startOptions = { host: '127.0.0.1', allowShortSessions: true, maxSessionSeconds: SESSION_SECONDS };

let sandbox: Sandbox = await startSandbox({ ...startOptions, port: 0 });
const port = sandbox.port;
// No answer cache: what is measured is every query reaching AWS (the sandbox), as without one.
const config = await parseConfig({
  accounts: demoAccounts(sandbox),
  aws: { endpoint: sandbox.endpoint },
  cache: { enabled: false },
});
const identity = { ...sandbox.credentials };
const gateway = createGateway({
  config,
  sourceCredentials: async () => identity,
  refresh: { refreshBackoff: { minMs: 500, maxMs: 1_000 } },
  log: () => {},
});
const server = createServer(gateway);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

interface Outcome {
  status: number;
  complete: boolean;
  ms: number;
  codes: Array<{ code: unknown; retryable: unknown }>;
}
async function query(): Promise<Outcome> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: FAN_OUT_QUERY }),
  });
  const body = (await response.json()) as GraphQLResponse<FanOutData>['body'];
  return {
    status: response.status,
    complete: isComplete({ status: response.status, body, headers: response.headers }),
    ms: Math.round(performance.now() - started),
    codes: (body.errors ?? []).map((e) => ({ code: e.extensions?.code, retryable: e.extensions?.retryable })),
  };
}

const before = await query();
// Kill it mid-query: EC2 answers slowly, so the query is in flight when the sandbox goes.
sandbox.admin.setLatency({ ec2: { fixedMs: 400 }, s3: { fixedMs: 400 } });
const inFlight = query();
await new Promise((resolve) => setTimeout(resolve, 150));
await sandbox.close();
const killedMidQuery = await inFlight;
const whileDown = await query();
sandbox = await startSandbox({ ...startOptions, port });
const restartedAt = performance.now();
let afterRestart: Outcome = await query();
let attempts = 1;
while (!afterRestart.complete && performance.now() - restartedAt < 15_000) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  afterRestart = await query();
  attempts++;
}
const recoveredInMs = Math.round(performance.now() - restartedAt);
const health = await fetch(url.replace('/graphql', '/health')).then((r) => r.status);

await gateway.close();
await new Promise<void>((resolve) => server.close(() => resolve()));
await sandbox.close();
process.stdout.write(
  `${JSON.stringify({ port, samePort: sandbox.port === port, before, killedMidQuery, whileDown, afterRestart, attempts, recoveredInMs, health, closedAt: Date.now() })}\n`,
);
