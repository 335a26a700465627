/**
 * The worker side of the `sdk-threads` case: holds the EC2 clients of the (account, region)
 * pairs it is given and sends one DescribeInstances per `call` message, posting the SDK's
 * output back (structured clone), as a gateway that moved SDK sends to workers would.
 */
import { parentPort } from 'node:worker_threads';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';

export interface PairSetup {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export type WorkerMessage =
  | { kind: 'setup'; pairs: Array<{ id: number } & PairSetup> }
  | { kind: 'call'; seq: number; pair: number };

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'result'; seq: number; output?: unknown; error?: string };

const port = parentPort;
if (!port) throw new Error('sdk-worker runs as a worker thread');
const clients = new Map<number, EC2Client>();
const reply = (message: WorkerReply) => port.postMessage(message);

port.on('message', (message: WorkerMessage) => {
  if (message.kind === 'setup') {
    for (const pair of message.pairs) {
      clients.set(
        pair.id,
        new EC2Client({
          endpoint: pair.endpoint,
          region: pair.region,
          credentials: pair.credentials,
          maxAttempts: 1,
        }),
      );
    }
    reply({ kind: 'ready' });
  } else {
    const client = clients.get(message.pair);
    if (!client) {
      reply({ kind: 'result', seq: message.seq, error: `no client for pair ${message.pair}` });
      return;
    }
    client.send(new DescribeInstancesCommand({ MaxResults: 1000 })).then(
      (output) => reply({ kind: 'result', seq: message.seq, output }),
      (error: unknown) => reply({ kind: 'result', seq: message.seq, error: String(error) }),
    );
  }
});
