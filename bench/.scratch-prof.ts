import { summarizeCpuProfile } from '/work/wt-limits/bench/lib/cpu-profile.js';
import { gql, latencyOf, startBenchGateway } from '/work/wt-limits/bench/lib/gateway-harness.js';
import { startSandboxProcess } from '/work/wt-limits/bench/lib/sandbox-process.js';

const sb = await startSandboxProcess({
  fixture: {
    accounts: 200,
    regions: ['us-east-1', 'eu-west-1'],
    instancesPerRegion: 5,
    bucketsPerAccount: 1,
    objectsPerBucket: 0,
    seed: 1,
  },
  latency: latencyOf(20),
});
const g = await startBenchGateway({
  fixture: sb.fixture,
  endpoint: sb.endpoint,
  credentials: sb.credentials,
  accounts: 200,
});
const Q = `{ accounts { alias instances(first: 100) { nodes { id region state } } } }`;
await gql(g, Q);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < 5; i++) await gql(g, Q);
const cpu = process.cpuUsage(cpu0);
console.log(
  'warm ms/query',
  ((performance.now() - t0) / 5).toFixed(0),
  'cpu ms/query',
  ((cpu.user + cpu.system) / 1000 / 5).toFixed(0),
  'cpu µs per call',
  ((cpu.user + cpu.system) / 5 / 400).toFixed(0),
);
await g.close();
await sb.close();
