import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCache } from '../src/index.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';

const base = { accessKeyId: 'AKIABASEPRINCIPAL', secretAccessKey: 'base-secret-value' };
const role = (account: number) => `arn:aws:iam::${String(account).padStart(12, '0')}:role/Reader`;
let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

const handlerOf = (client: object) =>
  (client as { config: { requestHandler: unknown } }).config.requestHandler;
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('one HTTP handler for every client of a session cache', () => {
  it('every client of every session (and every AssumeRole client) shares it; closing one session leaves it working', async () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => base,
      stsEndpoint: aws.endpoint,
      clientDefaults: { endpoint: aws.endpoint },
      refresh: { proactiveRefresh: false },
    });
    const a = sessions.get({ roleArn: role(111111111111) });
    const b = sessions.get({ roleArn: role(222222222222) });
    const clients = [
      a.client(EC2Client, 'us-east-1'),
      a.client(EC2Client, 'eu-west-1'),
      b.client(EC2Client, 'us-east-1'),
    ];
    const shared = handlerOf(clients[0] as object);
    expect(clients.every((c) => handlerOf(c) === shared)).toBe(true);
    await Promise.all(clients.map((c) => c.send(new DescribeRegionsCommand({}))));
    // Closing a session destroys its clients, not the handler the others send through.
    a.close();
    const out = await b.client(EC2Client, 'us-east-1').send(new DescribeRegionsCommand({}));
    expect(out.Regions?.length).toBeGreaterThan(0);
    sessions.close();
  });

  it('50 sessions keep a handful of keep-alive sockets between them, not one pool per client', async () => {
    const run = async (sharedRequestHandler: boolean) => {
      // Sockets closed just before (the last test's) may take a turn of the loop to go.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = sockets();
      const sessions = createSessionCache({
        sourceCredentials: async () => base,
        stsEndpoint: aws.endpoint,
        clientDefaults: { endpoint: aws.endpoint },
        refresh: { proactiveRefresh: false },
        sharedRequestHandler,
        // The SDK's way for the comparison: clients of each session's own, each its own handler.
        shareClients: sharedRequestHandler,
      });
      // One after another, as a paced fan-out sends them: a socket is free again for the next.
      for (let i = 1; i <= 50; i++) {
        await sessions
          .get({ roleArn: role(300000000000 + i) })
          .client(EC2Client, 'us-east-1')
          .send(new DescribeRegionsCommand({}));
      }
      const open = sockets() - before;
      sessions.close();
      return open;
    };
    const shared = await run(true);
    const perClient = await run(false);
    console.info(
      `open sockets after 50 sessions: shared ${shared}, per client ${perClient} (this process holds both ends: client and local AWS)`,
    );
    // Per client: each of the 50 EC2 clients and 50 STS clients keeps its own idle socket (and
    // the local AWS its end of each); shared: one or two, reused for every call.
    expect(perClient).toBeGreaterThanOrEqual(50);
    expect(shared).toBeGreaterThan(0);
    expect(shared).toBeLessThanOrEqual(4);
  });
});
