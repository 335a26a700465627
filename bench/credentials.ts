/**
 * Credentials under load (issue 2's proof): AssumeRole calls for 1000 requests over 10 clients,
 * rolegraph against the SDK's fromTemporaryCredentials, against the same local STS, and the
 * cost of a cached credential lookup for both.
 */
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { fromAssumeRole } from '@rolegraph/credentials';
import { startSandbox } from '@rolegraph/sandbox';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type BenchSection, ratio } from './lib/report.js';

const ROLE = 'arn:aws:iam::111111111111:role/RolegraphReader';
const REGIONS = ['us-east-1', 'eu-west-1'];
const CLIENTS = 10;
const REQUESTS = 1000;

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

async function drive(sb: Sandbox, credentials: AwsCredentialIdentityProvider): Promise<number> {
  sb.admin.reset();
  const clients = Array.from(
    { length: CLIENTS },
    (_, i) =>
      new EC2Client({
        region: REGIONS[i % REGIONS.length] ?? 'us-east-1',
        endpoint: sb.endpoint,
        credentials,
      }),
  );
  // Each client sends its share sequentially; the 10 clients run concurrently.
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < REQUESTS / CLIENTS; i++) await client.send(new DescribeRegionsCommand({}));
    }),
  );
  for (const c of clients) c.destroy();
  return sb.admin.calls({ service: 'sts', operation: 'AssumeRole' });
}

/** ns per call of an already-warm provider, best of 5 rounds. */
async function nsPerGet(get: () => Promise<unknown>, calls = 200_000): Promise<number> {
  for (let i = 0; i < 10_000; i++) await get();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await get();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
  }
  return best;
}

export async function benchCredentials(): Promise<BenchSection[]> {
  const sb = await startSandbox({ fixture: 'demo' });
  const base = { accessKeyId: sb.credentials.accessKeyId, secretAccessKey: sb.credentials.secretAccessKey };
  try {
    const rows: Array<Array<string | number>> = [];
    for (const lifetime of [900, 3600]) {
      const ours = fromAssumeRole({
        roleArn: ROLE,
        durationSeconds: lifetime,
        stsEndpoint: sb.endpoint,
        sourceCredentials: async () => base,
      });
      const oursCalls = await drive(sb, ours);
      ours.close();
      const sdk = fromTemporaryCredentials({
        params: { RoleArn: ROLE, DurationSeconds: lifetime },
        masterCredentials: base,
        clientConfig: { region: 'us-east-1', endpoint: sb.endpoint },
      });
      const sdkCalls = await drive(sb, sdk);
      rows.push([
        `${lifetime} s`,
        sdkCalls,
        oursCalls,
        ratio(sdkCalls, oursCalls),
        oursCalls === 1 ? 'met' : 'MISSED',
      ]);
    }

    const ours = fromAssumeRole({
      roleArn: ROLE,
      stsEndpoint: sb.endpoint,
      sourceCredentials: async () => base,
    });
    const oursGet = () => ours();
    // The SDK's memoized provider is what a client wraps fromTemporaryCredentials in.
    const sdkClient = new EC2Client({
      region: 'us-east-1',
      endpoint: sb.endpoint,
      credentials: fromTemporaryCredentials({
        params: { RoleArn: ROLE },
        masterCredentials: base,
        clientConfig: { region: 'us-east-1', endpoint: sb.endpoint },
      }),
    });
    const sdkGet = () => sdkClient.config.credentials();
    // Alternate to spread machine noise over both.
    const sdkNs = Math.min(await nsPerGet(sdkGet), await nsPerGet(sdkGet));
    const oursNs = Math.min(await nsPerGet(oursGet), await nsPerGet(oursGet));
    ours.close();
    sdkClient.destroy();

    return [
      {
        title: 'Credentials: AssumeRole calls for 1000 requests over 10 clients',
        description: `${REQUESTS} EC2 DescribeRegions over ${CLIENTS} clients in 2 regions sharing one provider, against the sandbox's STS (same endpoint for both). Peer: \`fromTemporaryCredentials\` from @aws-sdk/credential-providers.`,
        columns: ['lifetime', 'SDK fromTemporaryCredentials', 'rolegraph', 'peer / ours', 'target 1'],
        rows,
      },
      {
        title: 'Credentials: cost of a cached get',
        description:
          'ns per call of a warm provider (best of 5 rounds of 200 000 awaited calls). Peer: the memoized provider an SDK client builds around fromTemporaryCredentials.',
        columns: ['SDK memoized provider', 'rolegraph', 'peer / ours', 'target: no slower'],
        rows: [
          [
            sdkNs.toFixed(0),
            oursNs.toFixed(0),
            ratio(sdkNs, oursNs),
            oursNs <= sdkNs * 1.05 ? 'met' : 'MISSED',
          ],
        ],
        notes: ['Within 5% counts as "no slower": the two figures are measured alternately in one process.'],
      },
    ];
  } finally {
    await sb.close();
  }
}
